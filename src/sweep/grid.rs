//! Expanding parameters into the points of a sweep, in a fixed order:
//! the first parameter outermost (it changes slowest), as nested loops
//! written in the order the parameters were given.

use super::result::Param;

/// Most points a sweep may have.
pub const MAX_POINTS: usize = 1_000_000;

/// Every point, as the index of each parameter's value: the cartesian
/// product, or with `zip` the i-th value of every parameter together
/// (the lists must then be equally long). No parameters is one point, the
/// scenario as it is.
pub fn expand(params: &[Param], zip: bool) -> Result<Vec<Vec<usize>>, String> {
    if zip {
        let n = params.first().map_or(1, |p| p.values.len());
        if let Some(p) = params.iter().find(|p| p.values.len() != n) {
            return Err(format!(
                "--zip pairs the lists element by element, so they must be equally long: `{}` has {} values and `{}` has {n}",
                p.path,
                p.values.len(),
                params[0].path
            ));
        }
        return Ok((0..n).map(|i| vec![i; params.len()]).collect());
    }
    let mut total: usize = 1;
    for p in params {
        total = total
            .checked_mul(p.values.len())
            .filter(|t| *t <= MAX_POINTS)
            .ok_or_else(|| {
                format!("the grid has more than {MAX_POINTS} points; sweep fewer values")
            })?;
    }
    let mut points = Vec::with_capacity(total);
    for mut k in 0..total {
        let mut idx = vec![0; params.len()];
        for (slot, p) in idx.iter_mut().zip(params).rev() {
            *slot = k % p.values.len();
            k /= p.values.len();
        }
        points.push(idx);
    }
    Ok(points)
}

/// Refuses the same path twice: the later value would silently win.
pub fn check_distinct(params: &[Param]) -> Result<(), String> {
    for (i, p) in params.iter().enumerate() {
        if params[..i].iter().any(|q| q.path == p.path) {
            return Err(format!("the parameter `{}` is given twice", p.path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::param::parse_arg;

    #[test]
    fn grid_order_and_zip() {
        let a = parse_arg("a.x=1..2").unwrap();
        let b = parse_arg("b.y=10,20,30").unwrap();
        let g = expand(&[a.clone(), b.clone()], false).unwrap();
        assert_eq!(
            g,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert!(expand(&[a.clone(), b.clone()], true)
            .unwrap_err()
            .contains("equally long"));
        let c = parse_arg("c.z=5,6").unwrap();
        assert_eq!(
            expand(&[a.clone(), c], true).unwrap(),
            vec![vec![0, 0], vec![1, 1]]
        );
        assert_eq!(expand(&[], false).unwrap(), vec![Vec::<usize>::new()]);
        assert!(check_distinct(&[a.clone(), a]).is_err());
    }
}
