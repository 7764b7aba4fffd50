# bank-account
class Account:
    def __init__(s): s.b = 0
    def deposit(s, x):
        if x <= 0: raise ValueError("amount")
        s.b += x
    def withdraw(s, x):
        if x > s.b: raise ValueError("funds")
        s.b -= x
a = Account(); a.deposit(100); a.withdraw(30)
try:
    a.withdraw(500); raise SystemExit(1)
except ValueError as e: assert str(e) == "funds"
assert a.b == 70
