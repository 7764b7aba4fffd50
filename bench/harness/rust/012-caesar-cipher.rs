// caesar-cipher
fn shift(s: &str, k: u8) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                (((c as u8 - b'a' + k) % 26) + b'a') as char
            } else if c.is_ascii_uppercase() {
                (((c as u8 - b'A' + k) % 26) + b'A') as char
            } else {
                c
            }
        })
        .collect()
}
fn main() {
    assert_eq!(shift("Hello, World!", 3), "Khoor, Zruog!");
    assert_eq!(shift(&shift("abcxyz", 7), 19), "abcxyz");
}
