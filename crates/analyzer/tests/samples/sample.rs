use std::fs;

struct Loan {
    days: u32,
}

impl Loan {
    fn fee(&self, late: bool) -> u32 {
        if late && self.days > 14 {
            self.days - 14
        } else {
            0
        }
    }
}

fn parse(text: &str) -> Option<u32> {
    let n: u32 = text.trim().parse().ok()?;
    match n {
        0 => None,
        _ => Some(n),
    }
}
