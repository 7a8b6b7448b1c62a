"""The pure core: dates, warranty terms, working days, the repair clock and callback rules.

Nothing here imports xlwings or knows whether a workbook is behind the data. Functions take
columns (sequences, numpy arrays or pandas Series) and return columns; each module also has a
scalar convenience.
"""
