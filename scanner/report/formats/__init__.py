"""One module per output format, each registering itself with scanner.report.interface."""
