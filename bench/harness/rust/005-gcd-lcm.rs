// gcd-lcm
fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
fn lcm(a: u64, b: u64) -> u64 {
    a / gcd(a, b) * b
}
fn main() {
    assert_eq!(gcd(48, 18), 6);
    assert_eq!(lcm(4, 6), 12);
    assert_eq!((1..=20).fold(1, lcm), 232792560);
}
