// option-result-parse
fn parse_kv(s: &str) -> Result<(String, i64), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("no '=' in {s}"))?;
    let v: i64 = v.trim().parse().map_err(|e| format!("{k}: {e}"))?;
    Ok((k.trim().to_string(), v))
}
fn main() {
    assert_eq!(parse_kv("a = 5"), Ok(("a".to_string(), 5)));
    assert!(parse_kv("a5").is_err());
    assert!(parse_kv("a=x").unwrap_err().starts_with("a"));
}
