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

Public Sub OnTodo(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.todo()"
End Sub

Public Sub OnProject(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.project()"
End Sub

' The on-open summary (ThisWorkbook.Workbook_Open schedules it a moment after opening, so the
' workbook opens first): the to-do counts on Excel's status bar, never a message box.
Public Sub AcOpenSummary()
    On Error Resume Next
    RunPython "import pyfuncs.macros as m; m.open_summary()"
End Sub

' Whether the setting (tblSettings row "open summary", label in Chinese built with ChrW: this
' module stays ASCII) is on. Read here in VBA so that a workbook with the setting off (the
' default) never starts Python when it opens.
Public Function AcOpenSummaryOn() As Boolean
    Dim ws As Worksheet, lo As ListObject, r As ListRow, label As String, v As String
    On Error GoTo Done
    label = ChrW(&H6253) & ChrW(&H5F00) & ChrW(&H65F6) & ChrW(&H663E) & ChrW(&H793A) & _
            ChrW(&H5F85) & ChrW(&H529E) & ChrW(&H6458) & ChrW(&H8981)
    For Each ws In ThisWorkbook.Worksheets
        For Each lo In ws.ListObjects
            If lo.Name = "tblSettings" Then
                For Each r In lo.ListRows
                    If Trim$(CStr(r.Range.Cells(1, 1).Value)) = label Then
                        v = UCase$(Trim$(CStr(r.Range.Cells(1, 2).Value)))
                        AcOpenSummaryOn = (v = ChrW(&H662F) Or v = ChrW(&H5F00) Or v = "Y" Or v = "YES" _
                                           Or v = "TRUE" Or v = "1")
                        Exit Function
                    End If
                Next r
            End If
        Next lo
    Next ws
Done:
End Function

Public Sub OnCases(control As IRibbonControl)
    RunPython "import pyfuncs.macros as m; m.cases()"
End Sub

' Not a button: the xlwings VBA version of this workbook, read by the self-test
' (pyfuncs.selftest) through xlwings' Book.macro to compare it with the Python package.
Public Function AftercareXlwingsVersion() As String
    AftercareXlwingsVersion = XLWINGS_VERSION
End Function
