"""Violation reports for negotiations (XLSX, PDF, CSV) and the evidence behind them."""
