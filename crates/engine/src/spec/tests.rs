//! Descriptions and the specs the built-in extractor reads from them, side by side.

use expect_test::{Expect, expect};

use super::*;

fn check(description: &str, expected: Expect) {
    let rendered = match extract(description) {
        Ok(extraction) => {
            let mut text = summary(&extraction.spec);
            for question in &extraction.questions {
                text.push_str("? ");
                text.push_str(question);
                text.push('\n');
            }
            text
        }
        Err(error) => format!("error: {error}\n"),
    };
    expected.assert_eq(&rendered);
}

#[test]
fn library() {
    check(
        "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email. A loan links a member to a book, with a due date and a returned flag.",
        expect![[r#"
            app library: A library where members borrow books
            member (members): name string, email email
            book (books): title string, author string, isbn string, published_year integer
            loan (loans): due_date date, returned boolean
            loan belongs to member
            loan belongs to book
            member can borrow a book
        "#]],
    );
}

#[test]
fn todos_in_projects() {
    check(
        "A todo app: todos have a title, optional notes, a due date and a done flag. Todos belong to projects, which have a name.",
        expect![[r#"
            app todo: A todo app: todos have a title, optional notes, a due date and a done flag
            todo (todos): title string, notes? text, due_date date, done boolean
            project (projects): name string
            todo belongs to project
        "#]],
    );
}

#[test]
fn expenses_with_an_enum() {
    check(
        "Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description.",
        expect![[r#"
            app expense_tracker: Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description
            expense (expenses): amount number, currency enum(EUR|USD|GBP), date date, category string, description? text
        "#]],
    );
}

#[test]
fn bullet_lists_under_headings() {
    check(
        "A recipe manager.\nRecipes have:\n- a title\n- servings\n- instructions (optional)\n- a difficulty: easy, medium or hard\nIngredients have:\n- a name\n- a unique code\nEach ingredient belongs to a recipe.",
        expect![[r#"
            app recipe_manager: A recipe manager
            recipe (recipes): title string, servings integer, instructions? text, difficulty enum(easy|medium|hard)
            ingredient (ingredients): name string, code string unique
            ingredient belongs to recipe
        "#]],
    );
}

#[test]
fn with_fields_and_irregular_plurals() {
    check(
        "An app to manage people. People with fields name, birthday, website and is active. Each person has many children. Children have a name and an age.",
        expect![[r#"
            app person_manager: An app to manage people
            person (people): name string, birthday date, website url, is_active boolean
            child (children): name string, age integer
            person has many children
        "#]],
    );
}

#[test]
fn many_to_many_and_passive_actions() {
    check(
        "Students and courses. Students have a name and an e-mail address. Courses have a title and a capacity. Students have many courses and courses have many students. Courses can be rated by students.",
        expect![[r#"
            app student_app: Students and courses
            student (students): name string, email_address email
            course (courses): title string, capacity integer
            course many-to-many with students
            student can rate a course
        "#]],
    );
}

#[test]
fn explicit_types_and_optional_links() {
    check(
        "A shop. Products have a name, a price as a number, a stock count, a sku (unique) and a launched on date. An order has a customer, a status which is one of pending, paid or shipped, and a placed at timestamp. Orders may belong to a coupon. Coupons have a code. Customers have a name. Customers can cancel orders.",
        expect![[r#"
            app shop: A shop
            product (products): name string, price number, stock_count integer, sku string unique, launched_on date
            order (orders): status enum(pending|paid|shipped), placed_at datetime
            coupon (coupons): code string
            customer (customers): name string
            order belongs to customer
            order belongs to coupon (optional)
            customer can cancel an order
        "#]],
    );
}

#[test]
fn a_list_of_things_and_there_are() {
    check(
        "There are events and venues. Each event has a name, a start date and a list of tags. Events are in venues. Venues have an address and a capacity.",
        expect![[r#"
            app event_app: There are events and venues
            event (events): name string, start_date date, tags text
            venue (venues): address text, capacity integer
            event belongs to venue
            ? `event.tags` is stored as text: should tags be things of their own, with fields? Then describe them ("Tags have a name").
        "#]],
    );
}

#[test]
fn unplaced_sentences_become_questions() {
    check(
        "A blog where authors write posts. Posts have a title and a body. It should look nice and be fast.",
        expect![[r#"
            app blog: A blog where authors write posts
            author (authors): 
            post (posts): title string, body text
            author can write a post
            ? I could not place "It should look nice and be fast". Say it as "<things> have <fields>", "each <thing> belongs to a <thing>" or "<people> can <verb> <things>".
            ? What should an author record? For example: "Authors have a name and a description."
        "#]],
    );
}

#[test]
fn empty_and_meaningless_descriptions_ask_for_things_to_track() {
    for description in ["", "   ", "hello?", "make it good", "!!!"] {
        assert_eq!(extract(description), Err(EngineError::NothingToBuild), "{description:?}");
    }
}

#[test]
fn descriptions_over_the_limit_are_refused() {
    let description = "Books have a title. ".repeat(MAX_DESCRIPTION_BYTES / 10);
    assert!(matches!(
        extract(&description),
        Err(EngineError::DescriptionTooLong { limit: MAX_DESCRIPTION_BYTES, .. })
    ));
}

#[test]
fn hostile_names_become_safe_identifiers() {
    check(
        "Classes have a type, a \"quoted\" name, a {braced} value, a select and a `drop table users;--` note. Selects have a from and a where.",
        expect![[r#"
            app class_app: Classes have a type, a "quoted" name, a {braced} value, a select and a `drop table users;--` note
            class (classes): type string, quoted_name string, braced string, drop_table_users_note text
            select (selects): from string, where string
            class belongs to select
        "#]],
    );
}

#[test]
fn every_extracted_spec_passes_its_own_checks_and_round_trips_through_json() {
    for description in [
        "A library where members borrow books. Books have a title.",
        "Track expenses: each expense has an amount and a currency (one of EUR, USD or GBP).",
        "Todos belong to projects, which have a name.",
    ] {
        let spec =
            extract(description).unwrap_or_else(|error| panic!("{description}: {error}")).spec;
        spec.check().unwrap_or_else(|error| panic!("{description}: {error}"));
        let json = serde_json::to_string(&spec).unwrap_or_default();
        assert_eq!(from_json(&json), Ok(spec));
    }
}

#[test]
fn model_answers_are_checked() {
    for (answer, problem) in [
        ("{}", "not a spec"),
        (r#"{"name":"x","summary":"","entities":[]}"#, "no entities"),
        (
            r#"{"name":"Bad Name","summary":"","entities":[{"name":"a","plural":"as","fields":[]}]}"#,
            "app name",
        ),
        (
            r#"{"name":"x","summary":"","entities":[{"name":"a","plural":"as","fields":[{"name":"id","type":{"kind":"string"}}]}]}"#,
            "adds `id`",
        ),
        (
            r#"{"name":"x","summary":"","entities":[{"name":"a","plural":"as","fields":[]}],"relations":[{"kind":"belongs_to","from":"a","to":"b"}]}"#,
            "not an entity",
        ),
        (
            r#"{"name":"x","summary":"","entities":[{"name":"a","plural":"as","fields":[{"name":"s","type":{"kind":"enum","values":[]}}]}]}"#,
            "1 to",
        ),
        (
            r#"{"name":"x","summary":"","entities":[{"name":"a","plural":"as","fields":[]}],"extra":1}"#,
            "unknown field",
        ),
    ] {
        let error = from_json(answer).err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains(problem), "{answer}: {error}");
    }
}

#[test]
fn the_schema_names_every_field_type() {
    let schema = json_schema().to_string();
    for ty in [
        FieldType::String,
        FieldType::Text,
        FieldType::Integer,
        FieldType::Number,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Email,
        FieldType::Url,
        FieldType::Enum(Vec::new()),
    ] {
        assert!(schema.contains(&format!("\"{}\"", ty.keyword())), "{}", ty.keyword());
    }
}

#[test]
fn colon_lists_units_and_punctuation() {
    check(
        "Inventory for a warehouse with products and suppliers. Products: name, SKU (unique), price, quantity in stock. Suppliers: company name, contact email, phone. Every product belongs to a supplier.",
        expect![[r#"
            app supplier_app: Inventory for a warehouse with products and suppliers
            supplier (suppliers): company_name string, contact_email email, phone string
            product (products): name string, sku string unique, price number, quantity integer
            product belongs to supplier
        "#]],
    );
    check(
        "A recipe app. Recipes have a title, a number of servings, a preparation time in minutes, a cost in euros and instructions.",
        expect![[r#"
            app recipe: A recipe app
            recipe (recipes): title string, number_of_servings integer, preparation_time integer, cost number, instructions text
        "#]],
    );
}

#[test]
fn more_ways_people_write() {
    check(
        "I want an app to keep track of workouts. Each workout has a date, a type (run, swim or bike), a duration in minutes and optional notes.",
        expect![[r#"
            app workout_tracker: I want an app to keep track of workouts
            workout (workouts): date date, type enum(run|swim|bike), duration integer, notes? text
        "#]],
    );
    check(
        "Build me a CRM for contacts and companies. Contacts have a first name, a last name, an email (unique) and a phone number. Companies have a name and a website. A contact belongs to a company. Contacts may have a birthday.",
        expect![[r#"
            app crm: Build me a CRM for contacts and companies
            contact (contacts): first_name string, last_name string, email email unique, phone_number string, birthday? date
            company (companies): name string, website url
            contact belongs to company
        "#]],
    );
    check(
        "Invoices contain line items. Line items have a description, a quantity and a unit price. Each line item belongs to an invoice. Invoices have a number, an issue date and a paid flag. Customers can pay invoices.",
        expect![[r#"
            app invoice_app: Invoices contain line items
            invoice (invoices): number integer, issue_date date, paid boolean
            line_item (line_items): description text, quantity integer, unit_price number
            customer (customers): 
            line_item belongs to invoice
            customer can pay an invoice
            ? What should a customer record? For example: "Customers have a name and a description."
        "#]],
    );
    check(
        "An inventory system. Items with a name, a quantity, a price and an optional supplier website. Users can archive items.",
        expect![[r#"
            app inventory: An inventory system
            item (items): name string, quantity integer, price number, supplier_website? url
            anyone can archive an item
        "#]],
    );
}

#[test]
fn any_text_gives_a_spec_or_an_error_never_a_panic() {
    let pieces = [
        "Books",
        "have",
        "a",
        "title",
        ",",
        "and",
        "(",
        ")",
        ":",
        "one of",
        "or",
        "belongs to",
        "can",
        "be",
        "borrowed",
        "by",
        "members",
        "\n- ",
        "\n",
        ".",
        "ünïcödé",
        "日本語",
        "e.g.",
        "which",
        "have many",
        "many-to-many",
        "there are",
        "with",
        "optional",
        "unique",
        "'s",
        "\"",
        "{",
        "}",
        ";--",
        "DROP TABLE",
        "0",
        "9999999999999999999",
        "é",
        "ies",
        "s",
        "y",
    ];
    // A fixed linear congruential sequence: the same inputs on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2_000 {
        let mut text = String::new();
        for _ in 0..(state % 40) {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            text.push(' ');
        }
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        if let Ok(extraction) = extract(&text) {
            extraction.spec.check().unwrap_or_else(|error| panic!("{text:?}: {error}"));
        }
    }
}

#[test]
fn the_largest_description_is_read() {
    let sentence = "Things have a name, a price, a due date and optional notes. ";
    let description = sentence.repeat(MAX_DESCRIPTION_BYTES / sentence.len());
    let extraction = extract(&description).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(extraction.spec.entities.len(), 1);
}
