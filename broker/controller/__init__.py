"""The controller: validates metadata changes and commits them to the metadata log."""
