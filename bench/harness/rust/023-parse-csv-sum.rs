// parse-csv-sum
fn main() {
    let data = "name,qty,price\napple,3,0.5\npear,2,1.25\nplum,10,0.1\n";
    let mut total = 0.0f64;
    for line in data.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let q: f64 = f[1].parse().unwrap();
        let p: f64 = f[2].parse().unwrap();
        total += q * p;
    }
    assert!((total - 5.0).abs() < 1e-9);
    assert!("x".parse::<f64>().is_err());
}
