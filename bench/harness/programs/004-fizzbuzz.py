# fizzbuzz
def fb(n): return "FizzBuzz" if n % 15 == 0 else "Fizz" if n % 3 == 0 else "Buzz" if n % 5 == 0 else str(n)
assert [fb(i) for i in range(1, 16)][-1] == "FizzBuzz"
assert fb(9) == "Fizz" and fb(10) == "Buzz" and fb(7) == "7"
