//! A minimal `--name value` / `--flag` parser: two small binaries do not justify a CLI crate.
pub struct Args {
    usage: &'static str,
    rest: Vec<String>,
}

impl Args {
    pub fn from_env(usage: &'static str) -> Self {
        let rest: Vec<String> = std::env::args().skip(1).collect();
        if rest.iter().any(|a| a == "--help" || a == "-h") {
            println!("usage: {usage}");
            std::process::exit(0);
        }
        Self { usage, rest }
    }

    /// Takes `--name value` out of the arguments.
    pub fn value(&mut self, name: &str) -> Option<String> {
        let at = self.rest.iter().position(|a| a == name)?;
        if at + 1 >= self.rest.len() {
            self.fail(&format!("{name} needs a value"));
        }
        let value = self.rest.remove(at + 1);
        self.rest.remove(at);
        Some(value)
    }

    /// Takes `--name value` as a number, or the default when absent.
    pub fn number(&mut self, name: &str, default: u64) -> u64 {
        match self.value(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| self.fail(&format!("{name} must be a non-negative integer, got '{v}'"))),
        }
    }

    /// Takes `--name` out of the arguments.
    pub fn flag(&mut self, name: &str) -> bool {
        match self.rest.iter().position(|a| a == name) {
            Some(at) => {
                self.rest.remove(at);
                true
            }
            None => false,
        }
    }

    /// Anything left over is a mistake.
    pub fn finish(self) {
        if let Some(extra) = self.rest.first() {
            self.fail(&format!("unknown argument '{extra}'"));
        }
    }

    pub fn fail(&self, why: &str) -> ! {
        eprintln!("{why}\nusage: {}", self.usage);
        std::process::exit(2);
    }
}
