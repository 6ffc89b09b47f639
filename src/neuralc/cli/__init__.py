"""The command line (``neuralc``): one module per subcommand, see :mod:`neuralc.cli.main`."""
