// bfs-grid
use std::collections::VecDeque;
fn shortest(grid: &[&str]) -> Option<usize> {
    let g: Vec<&[u8]> = grid.iter().map(|r| r.as_bytes()).collect();
    let (h, w) = (g.len(), g[0].len());
    let mut dist = vec![vec![usize::MAX; w]; h];
    let mut q = VecDeque::new();
    dist[0][0] = 0;
    q.push_back((0usize, 0usize));
    while let Some((r, c)) = q.pop_front() {
        if (r, c) == (h - 1, w - 1) {
            return Some(dist[r][c]);
        }
        let moves = [(0i32, 1i32), (1, 0), (0, -1), (-1, 0)];
        for (dr, dc) in moves {
            let (nr, nc) = (r as i32 + dr, c as i32 + dc);
            if nr < 0 || nc < 0 || nr >= h as i32 || nc >= w as i32 {
                continue;
            }
            let (nr, nc) = (nr as usize, nc as usize);
            if g[nr][nc] == b'.' && dist[nr][nc] == usize::MAX {
                dist[nr][nc] = dist[r][c] + 1;
                q.push_back((nr, nc));
            }
        }
    }
    None
}
fn main() {
    assert_eq!(shortest(&["..#", "#..", "#.."]), Some(4));
    assert_eq!(shortest(&[".#", "#."]), None);
}
