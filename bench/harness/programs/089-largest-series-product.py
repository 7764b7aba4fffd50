# largest-series-product
def lsp(s, k): 
    from math import prod
    return max(prod(map(int, s[i:i + k])) for i in range(len(s) - k + 1))
assert lsp("1027839564", 3) == 270
