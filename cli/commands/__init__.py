"""One module per noun of the `strom` command."""
