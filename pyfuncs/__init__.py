"""aftercare (回访保修): warranty terms, the repair clock and callback plans for Excel.

``pyfuncs.core`` holds the rules (no xlwings); ``pyfuncs.udfs`` the worksheet functions;
``pyfuncs.macros`` the ribbon entry points; ``pyfuncs.cli`` the ``aftercare`` command.
"""
__version__ = "0.1.0"
