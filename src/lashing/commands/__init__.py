"""One module per subcommand: each has NAME, HELP, add_arguments(parser) and
run(args, ctx) -> int. COMMANDS is the explicit list the CLI offers."""
