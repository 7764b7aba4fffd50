# wordy-math
import re
def wordy(q):
    nums = list(map(int, re.findall(r"-?\d+", q))); ops = re.findall(r"plus|minus|multiplied|divided", q)
    v = nums[0]
    for op, n in zip(ops, nums[1:]):
        v = v + n if op == "plus" else v - n if op == "minus" else v * n if op == "multiplied" else v // n
    return v
assert wordy("What is 5 plus 13 minus 2?") == 16 and wordy("What is -3 multiplied by 4 divided by 2?") == -6
