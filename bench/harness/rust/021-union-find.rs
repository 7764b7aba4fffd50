// union-find
struct Dsu {
    p: Vec<usize>,
}
impl Dsu {
    fn find(&mut self, x: usize) -> usize {
        if self.p[x] != x {
            let r = self.find(self.p[x]);
            self.p[x] = r;
        }
        self.p[x]
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        self.p[ra] = rb;
    }
}
fn main() {
    let mut d = Dsu { p: (0..10).collect() };
    for (a, b) in [(0, 1), (2, 3), (1, 3), (5, 6)] {
        d.union(a, b);
    }
    assert_eq!(d.find(0), d.find(2));
    assert_ne!(d.find(0), d.find(5));
    let roots: std::collections::HashSet<usize> = (0..10).map(|i| d.find(i)).collect();
    assert_eq!(roots.len(), 6);
}
