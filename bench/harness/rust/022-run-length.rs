// run-length
fn rle(s: &str) -> String {
    let mut out = String::new();
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < c.len() {
        let mut j = i;
        while j < c.len() && c[j] == c[i] {
            j += 1;
        }
        out.push_str(&format!("{}{}", j - i, c[i]));
        i = j;
    }
    out
}
fn main() {
    assert_eq!(rle("aaabccdddd"), "3a1b2c4d");
    assert_eq!(rle(""), "");
}
