//! Every security rule with code that must fire it and code that must not.

use crate::{Options, analyze};

/// (file, source, the rule ids it must produce, in order). An empty list is a negative case.
const CASES: &[(&str, &str, &[&str])] = &[
    // Dynamic code.
    ("a.py", "eval(user_input)\n", &["py.eval"]),
    ("a.py", "exec(compile(src, 'x', 'exec'))\n", &["py.eval"]),
    ("a.py", "eval('1 + 2')\n", &[]),
    ("a.py", "model.eval()\n", &[]),
    ("a.js", "eval(req.query.code);\n", &["js.eval"]),
    ("a.js", "const f = new Function('a', body);\n", &["js.eval"]),
    ("a.js", "setTimeout(`tick(${n})`, 10);\n", &["js.eval"]),
    ("a.js", "setTimeout(tick, 10);\n", &[]),
    ("a.js", "eval('2 + 2');\n", &[]),
    ("a.php", "<?php eval($_GET['code']);\n", &["php.eval"]),
    ("a.php", "<?php eval('return 1;');\n", &[]),
    ("a.rb", "eval(params[:code])\n", &["rb.eval"]),
    ("a.rb", "eval('1 + 1')\n", &[]),
    // Shell injection.
    ("a.py", "import subprocess\nsubprocess.run(cmd, shell=True)\n", &["py.subprocess-shell"]),
    ("a.py", "subprocess.run(f'ls {path}', shell=True)\n", &["py.subprocess-shell"]),
    ("a.py", "subprocess.run(['ls', path])\n", &[]),
    ("a.py", "subprocess.run('ls -l', shell=True)\n", &[]),
    ("a.py", "subprocess.Popen(['set'], shell=1)\n", &[]),
    ("a.py", "subprocess.Popen(['ls', path], shell=True)\n", &["py.subprocess-shell"]),
    ("a.py", "os.system('rm -rf ' + path)\n", &["py.os-system"]),
    ("a.py", "os.system('clear')\n", &[]),
    (
        "a.js",
        "const { exec } = require('child_process');\nexec(`ls ${dir}`);\n",
        &["js.child-process"],
    ),
    ("a.js", "child_process.execSync('git ' + args);\n", &["js.child-process"]),
    ("a.js", "exec('ls -l');\n", &[]),
    ("a.js", "const m = /a/.exec(text);\n", &[]),
    ("a.js", "spawn(cmd, { shell: true });\n", &["js.spawn-shell"]),
    ("a.js", "spawn('ls', ['-l']);\n", &[]),
    ("a.php", "<?php system('ping ' . $host);\n", &["php.shell"]),
    ("a.php", "<?php $out = `ls $dir`;\n", &["shell.backticks"]),
    ("a.php", "<?php system('uptime');\n", &[]),
    ("a.rb", "system(\"tar xf #{file}\")\n", &["rb.shell"]),
    ("a.rb", "out = `ls #{dir}`\n", &["shell.backticks"]),
    ("a.rb", "system('ls', dir)\n", &[]),
    ("a.go", "package main\nfunc f(c string) { exec.Command(\"sh\", \"-c\", c) }\n", &["go.shell"]),
    ("a.go", "package main\nfunc f(d string) { exec.Command(\"ls\", d) }\n", &[]),
    (
        "a.java",
        "class A { void f(String c) throws Exception { Runtime.getRuntime().exec(\"sh -c \" + c); } }\n",
        &["java.exec"],
    ),
    (
        "a.java",
        "class A { void f() throws Exception { Runtime.getRuntime().exec(\"ls\"); } }\n",
        &[],
    ),
    ("a.c", "int f(char *c) { return system(c); }\n", &["c.system"]),
    ("a.c", "int f(void) { return system(\"ls\"); }\n", &[]),
    (
        "a.rs",
        "fn f(c: &str) { Command::new(\"sh\").arg(\"-c\").arg(c).status(); }\n",
        &["rust.shell"],
    ),
    ("a.rs", "fn f() { Command::new(\"ls\").arg(\"-l\").status(); }\n", &[]),
    // SQL built from strings.
    ("a.py", "cur.execute(\"SELECT * FROM users WHERE id = %s\" % uid)\n", &["sql.built-query"]),
    ("a.py", "cur.execute(f\"DELETE FROM t WHERE id = {x}\")\n", &["sql.built-query"]),
    ("a.py", "cur.execute(\"SELECT name FROM t WHERE id = {}\".format(x))\n", &["sql.built-query"]),
    ("a.py", "cur.execute(\"SELECT * FROM users WHERE id = %s\", (uid,))\n", &[]),
    ("a.py", "logger.execute(f\"step {x}\")\n", &[]),
    ("a.js", "db.query(`SELECT * FROM users WHERE name = '${name}'`);\n", &["sql.built-query"]),
    ("a.js", "db.query('SELECT * FROM users WHERE name = $1', [name]);\n", &[]),
    (
        "a.java",
        "class A { void f(Statement s, String n) throws Exception { s.executeQuery(\"SELECT * FROM t WHERE n = '\" + n + \"'\"); } }\n",
        &["sql.built-query"],
    ),
    (
        "a.go",
        "package main\nfunc f(id string) { db.Query(fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)) }\n",
        &["sql.built-query"],
    ),
    (
        "a.go",
        "package main\nfunc f(id string) { db.Query(\"SELECT * FROM t WHERE id = $1\", id) }\n",
        &[],
    ),
    ("a.php", "<?php mysqli_query($db, \"SELECT * FROM t WHERE id = $id\");\n", &[]),
    ("a.php", "<?php $db->query(\"SELECT * FROM t WHERE id = $id\");\n", &["sql.built-query"]),
    (
        "a.rb",
        "User.find_by_sql(\"SELECT * FROM users WHERE name = '#{name}'\")\n",
        &["sql.built-query"],
    ),
    (
        "a.rs",
        "fn f(id: &str) { sqlx::query(&format!(\"SELECT * FROM t WHERE id = {id}\")); }\n",
        &["sql.built-query"],
    ),
    ("a.rs", "fn f() { sqlx::query(\"SELECT * FROM t WHERE id = $1\"); }\n", &[]),
    // Weak password hashes.
    ("a.py", "digest = hashlib.md5(password.encode()).hexdigest()\n", &["weak-hash.password"]),
    ("a.py", "etag = hashlib.md5(body).hexdigest()\n", &[]),
    (
        "a.js",
        "const h = crypto.createHash('sha1').update(password).digest('hex');\n",
        &["weak-hash.password"],
    ),
    ("a.js", "const h = crypto.createHash('sha256').update(password).digest('hex');\n", &[]),
    (
        "a.java",
        "class A { void f(String password) throws Exception { MessageDigest md = MessageDigest.getInstance(\"MD5\"); md.update(password.getBytes()); } }\n",
        &[],
    ),
    ("a.php", "<?php $h = md5($password);\n", &["weak-hash.password"]),
    ("a.php", "<?php $h = md5($file);\n", &[]),
    // Unsafe deserialization.
    ("a.py", "obj = pickle.loads(blob)\n", &["py.pickle"]),
    ("a.py", "cfg = yaml.load(text)\n", &["py.yaml-load"]),
    ("a.py", "cfg = yaml.load(text, Loader=yaml.SafeLoader)\n", &[]),
    ("a.py", "cfg = yaml.safe_load(text)\n", &[]),
    (
        "a.java",
        "class A { void f(InputStream i) throws Exception { new ObjectInputStream(i).readObject(); } }\n",
        &["java.deserialization"],
    ),
    ("a.php", "<?php $o = unserialize($_COOKIE['x']);\n", &["php.unserialize"]),
    ("a.rb", "obj = Marshal.load(data)\n", &["rb.marshal-load"]),
    ("a.js", "var o = serialize.unserialize(req.body);\n", &["js.unserialize"]),
    // TLS verification off.
    ("a.py", "requests.get(url, verify=False)\n", &["tls.verify-off"]),
    ("a.py", "requests.get(url, verify=True)\n", &[]),
    ("a.py", "ctx = ssl._create_unverified_context()\n", &["tls.verify-off"]),
    ("a.py", "ctx.verify_mode = ssl.CERT_NONE\n", &["tls.verify-off"]),
    ("a.js", "https.request({ host, rejectUnauthorized: false });\n", &["tls.verify-off"]),
    ("a.js", "https.request({ host, rejectUnauthorized: true });\n", &[]),
    ("a.js", "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n", &["tls.verify-off"]),
    ("a.go", "package main\nvar c = &tls.Config{InsecureSkipVerify: true}\n", &["tls.verify-off"]),
    ("a.go", "package main\nvar c = &tls.Config{MinVersion: tls.VersionTLS12}\n", &[]),
    (
        "a.rs",
        "fn f() { reqwest::Client::builder().danger_accept_invalid_certs(true); }\n",
        &["tls.verify-off"],
    ),
    ("a.php", "<?php curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);\n", &["tls.verify-off"]),
    ("a.php", "<?php curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, true);\n", &[]),
    ("a.rb", "http.verify_mode = OpenSSL::SSL::VERIFY_NONE\n", &["tls.verify-off"]),
    (
        "a.c",
        "void f(CURL *c) { curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); }\n",
        &["tls.verify-off"],
    ),
    // Hard-coded secrets.
    ("a.py", "AWS_KEY = 'AKIAIOSFODNN7EXAMPLE'\n", &["secret.aws-access-key"]),
    ("a.js", "// token: ghp_0123456789abcdefghijABCDEFGHIJ012345\n", &["secret.github-token"]),
    (
        "a.go",
        "package main\nconst key = `-----BEGIN RSA PRIVATE KEY-----`\n",
        &["secret.private-key"],
    ),
    ("a.py", "password = 'x9F2kQ7mZt4LpR8vWb3N'\n", &["secret.hardcoded"]),
    ("a.js", "const apiKey = 'q8Zr5Tx2Lm9Vb4Nc7Kd1';\n", &["secret.hardcoded"]),
    (
        "a.java",
        "class A { String dbPassword = \"u7Hq2Zk9Rw4Tm1Xc8Lp5\"; }\n",
        &["secret.hardcoded"],
    ),
    ("a.py", "password = os.environ['DB_PASSWORD']\n", &[]),
    ("a.py", "password = 'changeme'\n", &[]),
    ("a.py", "greeting = 'x9F2kQ7mZt4LpR8vWb3N'\n", &[]),
    // Rust unsafe.
    ("a.rs", "fn f(p: *const u8) -> u8 { unsafe { *p } }\n", &["rust.unsafe-block"]),
    ("a.rs", "fn f(p: &u8) -> u8 { *p }\n", &[]),
];

#[test]
fn rules_fire_where_they_should_and_nowhere_else() {
    let mut failures = Vec::new();
    for (path, source, expected) in CASES {
        let report = analyze(path, source.as_bytes(), &Options::default()).expect("analyze");
        let got: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        if got != *expected {
            failures.push(format!(
                "{path}: {source:?}\n    expected {expected:?}\n    got      {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn findings_carry_severity_cwe_place_and_snippet() {
    let source = "import os\n\ndef run(path):\n    os.system('rm -rf ' + path)\n";
    let report = analyze("x.py", source.as_bytes(), &Options::default()).expect("analyze");
    let finding = &report.findings[0];
    assert_eq!(finding.severity, crate::Severity::High);
    assert_eq!(finding.cwe, Some(78));
    assert_eq!((finding.line, finding.column, finding.end_line), (4, 5, 4));
    assert_eq!(finding.snippet, "os.system('rm -rf ' + path)");
    assert!(finding.message.contains("os.system"), "{}", finding.message);
}
