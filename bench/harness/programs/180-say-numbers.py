# say-numbers
ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
def say(n):
    if n < 20: return ONES[n]
    if n < 100: return TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else "")
    if n < 1000: return ONES[n // 100] + " hundred" + (" " + say(n % 100) if n % 100 else "")
    return say(n // 1000) + " thousand" + (" " + say(n % 1000) if n % 1000 else "")
assert say(14) == "fourteen" and say(987) == "nine hundred eighty-seven" and say(1234) == "one thousand two hundred thirty-four"
