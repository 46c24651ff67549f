"""One date format across the console and the storefront ("4 Dec 2026"; with the time "4 Dec 2026, 21:27 UTC").

Django's defaults mixed "Dec. 4, 2026, 9:27 p.m.", ISO dates and "4 December 2026", none with a time zone;
the time zone matters because administrators, buyers and the ERP are rarely in one.
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
TIME_FORMAT = "H:i T"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
