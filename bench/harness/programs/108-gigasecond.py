# gigasecond
from datetime import datetime, timedelta
assert datetime(2011, 4, 25) + timedelta(seconds=10 ** 9) == datetime(2043, 1, 1, 1, 46, 40)
