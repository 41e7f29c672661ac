"""`python -m strom.cli`: the same entry point as the `strom` console script."""

from strom.cli.main import main

if __name__ == "__main__":
    main()
