// traits-shapes
trait Shape {
    fn area(&self) -> f64;
}
struct Rect(f64, f64);
struct Circle(f64);
impl Shape for Rect {
    fn area(&self) -> f64 {
        self.0 * self.1
    }
}
impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * self.0 * self.0
    }
}
fn main() {
    let shapes: Vec<Box<dyn Shape>> = vec![Box::new(Rect(2.0, 3.0)), Box::new(Circle(1.0))];
    let total: f64 = shapes.iter().map(|s| s.area()).sum();
    assert!((total - (6.0 + std::f64::consts::PI)).abs() < 1e-12);
}
