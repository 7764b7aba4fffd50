// palindrome
fn is_pal(s: &str) -> bool {
    let t: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    t.iter().eq(t.iter().rev())
}
fn main() {
    assert!(is_pal("A man, a plan, a canal: Panama"));
    assert!(!is_pal("hello"));
}
