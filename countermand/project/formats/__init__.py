"""Date and time formats of every page (FORMAT_MODULE_PATH): one way of writing a date, with the time zone."""
