// roman-numerals
fn to_roman(mut n: u32) -> String {
    let t = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")];
    let mut s = String::new();
    for &(v, r) in t.iter() {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}
fn from_roman(s: &str) -> u32 {
    let val = |c| match c { 'I' => 1, 'V' => 5, 'X' => 10, 'L' => 50, 'C' => 100, 'D' => 500, 'M' => 1000, _ => 0 };
    let v: Vec<u32> = s.chars().map(val).collect();
    let mut total = 0;
    for i in 0..v.len() {
        if i + 1 < v.len() && v[i] < v[i + 1] { total -= v[i] as i64; } else { total += v[i] as i64; }
    }
    total as u32
}
fn main() {
    assert_eq!(to_roman(1994), "MCMXCIV");
    assert_eq!(from_roman("MCMXCIV"), 1994);
    for n in 1..4000 {
        assert_eq!(from_roman(&to_roman(n)), n);
    }
}
