Attribute VB_Name = "Ribbon"
' Ribbon callbacks for the tab in customUI.xml: one Sub per button, each running one job
' (pyfuncs.macros.<job>) through xlwings. The job works on the workbook that called it.
' Keep this module ASCII: the VBA project stores source text in code page 1252, so Chinese
' text (messages, labels) lives in Python and in customUI.xml, never here.
Option Explicit

Public Sub OnPlan(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.plan()"
End Sub

Public Sub OnRefresh(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.refresh()"
End Sub

Public Sub OnVisits(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.visits()"
End Sub

Public Sub OnReport(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.report()"
End Sub

Public Sub OnForms(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.forms()"
End Sub

Public Sub OnCheck(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.check()"
End Sub

Public Sub OnSelftest(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.selftest()"
End Sub

Public Sub OnRestore(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.restore()"
End Sub

Public Sub OnCases(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.cases()"
End Sub

' Not a button: the xlwings VBA version of this workbook, read by the self-test
' (pyfuncs.selftest) through xlwings' Book.macro to compare it with the Python package.
Public Function AftercareXlwingsVersion() As String
    AftercareXlwingsVersion = XLWINGS_VERSION
End Function
