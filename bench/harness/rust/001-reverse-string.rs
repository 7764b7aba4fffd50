// reverse-string
fn rev(s: &str) -> String {
    s.chars().rev().collect()
}
fn main() {
    assert_eq!(rev("hello"), "olleh");
    assert_eq!(rev(""), "");
    assert_eq!(rev("añb"), "bña");
}
