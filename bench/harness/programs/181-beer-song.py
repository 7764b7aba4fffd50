# beer-song
def verse(n):
    b = lambda k: "no more bottles" if k == 0 else "1 bottle" if k == 1 else f"{k} bottles"
    if n == 0: return "No more bottles of beer on the wall, no more bottles of beer.\nGo to the store and buy some more, 99 bottles of beer on the wall."
    return f"{b(n)} of beer on the wall, {b(n)} of beer.\nTake {'it' if n == 1 else 'one'} down and pass it around, {b(n - 1)} of beer on the wall."
assert verse(1).endswith("no more bottles of beer on the wall.") and verse(2).startswith("2 bottles")
song = "\n\n".join(verse(n) for n in range(99, -1, -1))
assert song.count("\n\n") == 99
