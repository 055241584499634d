//! The tax arithmetic: rates by date, the tax contained in inclusive prices, one rounding per
//! rate per order, and registration numbers.

use super::*;
use proptest::prelude::*;
use time::macros::date;

#[test]
fn the_rate_is_the_one_in_force_that_day() {
    let history = TaxRules::new(
        vec![
            RatePeriod {
                from: date!(2019 - 10 - 01),
                standard: 10,
                reduced: 8,
            },
            RatePeriod {
                from: date!(1997 - 04 - 01),
                standard: 5,
                reduced: 5,
            },
            RatePeriod {
                from: date!(2014 - 04 - 01),
                standard: 8,
                reduced: 8,
            },
        ],
        Rounding::Down,
    )
    .unwrap();
    assert_eq!(
        history.rate_on(date!(1990 - 01 - 01), RateClass::Standard),
        None
    );
    assert_eq!(
        history.rate_on(date!(2014 - 03 - 31), RateClass::Standard),
        Some(5)
    );
    assert_eq!(
        history.rate_on(date!(2014 - 04 - 01), RateClass::Standard),
        Some(8)
    );
    assert_eq!(
        history.rate_on(date!(2019 - 09 - 30), RateClass::Reduced),
        Some(8)
    );
    assert_eq!(
        history.rate_on(date!(2026 - 11 - 26), RateClass::Standard),
        Some(10)
    );
    assert_eq!(
        history.rate_on(date!(2026 - 11 - 26), RateClass::Reduced),
        Some(8)
    );
    assert_eq!(
        TaxRules::new(Vec::new(), Rounding::Down),
        Err(TaxRulesError::Empty)
    );
    let twice = RatePeriod {
        from: date!(2019 - 10 - 01),
        standard: 10,
        reduced: 8,
    };
    assert_eq!(
        TaxRules::new(vec![twice, twice], Rounding::Down),
        Err(TaxRulesError::Overlap)
    );
}

#[test]
fn the_tax_in_an_inclusive_price_follows_the_rounding_rule() {
    let mut rules = TaxRules::japan();
    assert_eq!(rules.tax_in(1100, 10), 100);
    assert_eq!(rules.tax_in(1000, 10), 90, "90.9… rounded down");
    assert_eq!(rules.tax_in(1080, 8), 80);
    rules.rounding = Rounding::HalfUp;
    assert_eq!(rules.tax_in(1000, 10), 91);
    assert_eq!(rules.tax_in(1045, 10), 95, "95.0 exactly");
    rules.rounding = Rounding::Up;
    assert_eq!(rules.tax_in(1100, 10), 100, "exact amounts do not round up");
    assert_eq!(rules.tax_in(1001, 10), 91, "91.0 exactly");
    assert_eq!(rules.tax_in(1002, 10), 92);
}

#[test]
fn an_order_is_rounded_once_per_rate_not_per_line() {
    let rules = TaxRules::japan();
    let line = TaxLine {
        unit_price: 105,
        quantity: 1,
        class: RateClass::Standard,
    };
    let day = date!(2026 - 11 - 26);
    let order = rules.breakdown(day, &[line, line, line]).unwrap();
    // Per line: 9 + 9 + 9 = 27; once for the order: 315 × 10 / 110 = 28.6… → 28.
    assert_eq!(order.per_rate.len(), 1);
    assert_eq!(order.per_rate[0].inclusive, 315);
    assert_eq!(order.per_rate[0].tax, 28);
    assert_eq!(order.per_rate[0].exclusive, 287);
    let food = TaxLine {
        unit_price: 540,
        quantity: 2,
        class: RateClass::Reduced,
    };
    let mixed = rules.breakdown(day, &[line, food]).unwrap();
    assert_eq!(mixed.line_rates, vec![10, 8]);
    assert_eq!(
        mixed.per_rate,
        vec![
            RateTotal {
                rate: 10,
                inclusive: 105,
                tax: 9,
                exclusive: 96
            },
            RateTotal {
                rate: 8,
                inclusive: 1080,
                tax: 80,
                exclusive: 1000
            },
        ]
    );
    assert_eq!(mixed.total(), 1185);
    assert_eq!(mixed.tax(), 89);
    assert_eq!(rules.breakdown(date!(2019 - 09 - 30), &[line]), Err(NoRate));
}

#[test]
fn registration_numbers_carry_the_corporate_check_digit() {
    // The National Tax Agency's own corporate number.
    let number = RegistrationNumber::parse("T7000012050002").unwrap();
    assert_eq!(number.as_str(), "T7000012050002");
    assert_eq!(
        RegistrationNumber::parse(" t7-0000-1205-0002 ").unwrap(),
        number
    );
    assert_eq!(
        RegistrationNumber::parse("T7000012050003"),
        Err(RegistrationNumberError::CheckDigit)
    );
    for bad in [
        "7000012050002",
        "T700001205000",
        "T70000120500022",
        "T70000120500a2",
        "",
    ] {
        assert_eq!(
            RegistrationNumber::parse(bad),
            Err(RegistrationNumberError::Format),
            "{bad}"
        );
    }
}

fn line() -> impl Strategy<Value = TaxLine> {
    (
        0i64..200_000,
        1u32..5,
        prop_oneof![Just(RateClass::Standard), Just(RateClass::Reduced)],
    )
        .prop_map(|(unit_price, quantity, class)| TaxLine {
            unit_price,
            quantity,
            class,
        })
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::Down),
        Just(Rounding::HalfUp),
        Just(Rounding::Up)
    ]
}

proptest! {
    /// Whatever the lines, each rate's total is the sum of its lines, its tax is the exact
    /// contained tax rounded once by the rule, and the parts add up.
    #[test]
    fn per_rate_totals_add_up_and_are_rounded_once(
        lines in proptest::collection::vec(line(), 0..40),
        rule in rounding(),
    ) {
        let mut rules = TaxRules::japan();
        rules.rounding = rule;
        let order = rules.breakdown(date!(2026 - 11 - 26), &lines).unwrap();
        let sum: i64 = lines.iter().map(|l| l.unit_price * i64::from(l.quantity)).sum();
        prop_assert_eq!(order.total(), sum);
        prop_assert!(order.per_rate.len() <= 2);
        for total in &order.per_rate {
            let at_rate: i64 = lines
                .iter()
                .zip(&order.line_rates)
                .filter(|(_, r)| **r == total.rate)
                .map(|(l, _)| l.unit_price * i64::from(l.quantity))
                .sum();
            prop_assert_eq!(total.inclusive, at_rate);
            prop_assert_eq!(total.exclusive + total.tax, total.inclusive);
            let exact_times = i128::from(total.inclusive) * i128::from(total.rate);
            let denominator = 100 + i128::from(total.rate);
            let tax = i128::from(total.tax);
            // Within one yen of the exact value, on the side the rule says.
            match rule {
                Rounding::Down => prop_assert!(tax * denominator <= exact_times && exact_times < (tax + 1) * denominator),
                Rounding::Up => prop_assert!((tax - 1) * denominator < exact_times && exact_times <= tax * denominator),
                Rounding::HalfUp => prop_assert!((2 * tax - 1) * denominator <= 2 * exact_times && 2 * exact_times < (2 * tax + 1) * denominator),
            }
        }
    }

    /// Every twelve digits have exactly one check digit, and a wrong first digit is refused.
    #[test]
    fn exactly_one_check_digit_fits(twelve in proptest::collection::vec(0u32..10, 12), wrong in 1u32..9) {
        let digits: String = twelve.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
        let check = check_digit(&twelve);
        prop_assert!((1..=9).contains(&check));
        let good = format!("T{check}{digits}");
        prop_assert!(RegistrationNumber::parse(&good).is_ok());
        let other = (check + wrong) % 10;
        let bad = format!("T{other}{digits}");
        prop_assert_eq!(RegistrationNumber::parse(&bad), Err(RegistrationNumberError::CheckDigit));
    }
}
