# day-of-week
def zeller(y, m, d):
    if m < 3: m += 12; y -= 1
    K, J = y % 100, y // 100
    return (d + 13 * (m + 1) // 5 + K + K // 4 + J // 4 + 5 * J) % 7
import datetime
for (y, m, d) in [(2024, 2, 29), (2000, 1, 1), (1969, 7, 20)]:
    assert (zeller(y, m, d) + 5) % 7 == datetime.date(y, m, d).weekday()
