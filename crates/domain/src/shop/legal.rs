//! The seller's particulars that Japan's Act on Specified Commercial Transactions (特定商取引法
//! 第11条) requires an online shop to show — who sells, where and how to reach them — and the
//! invoice issuer's registration number. A store with a real payment provider may not open
//! while any of them is missing; the sandbox shows labelled sample values instead.

use crate::shop::tax::RegistrationNumber;

/// The seller, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seller {
    /// The legal name of the business (販売業者).
    pub name: String,
    /// The representative or the person responsible (代表者・運営統括責任者).
    pub representative: String,
    /// The address (所在地).
    pub address: String,
    /// A telephone number (電話番号).
    pub phone: String,
    /// A contact address (メールアドレス).
    pub email: String,
    /// The qualified-invoice registration number, when the seller is registered.
    pub registration_number: Option<RegistrationNumber>,
}

impl Seller {
    /// The configuration keys of required particulars that are empty.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("seller_name", &self.name),
            ("seller_representative", &self.representative),
            ("seller_address", &self.address),
            ("seller_phone", &self.phone),
            ("seller_email", &self.email),
        ]
        .into_iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(key, _)| key)
        .collect()
    }

    /// Sample particulars for the sandbox, which the page labels as samples.
    pub fn sample() -> Self {
        Self {
            name: "みんな聞ける株式会社（サンプル） / Minna Kikeru K.K. (sample)".to_owned(),
            representative: "山田 花子（サンプル） / Hanako Yamada (sample)".to_owned(),
            address: "〒100-0001 東京都千代田区千代田1-1（サンプル） / 1-1 Chiyoda, Chiyoda-ku, Tokyo 100-0001 (sample)".to_owned(),
            phone: "03-0000-0000".to_owned(),
            email: "support@example.jp".to_owned(),
            registration_number: RegistrationNumber::parse("T7123456789012").ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_empty_particular_is_named() {
        assert_eq!(
            Seller::default().missing(),
            vec![
                "seller_name",
                "seller_representative",
                "seller_address",
                "seller_phone",
                "seller_email"
            ]
        );
        let mut seller = Seller::sample();
        assert!(seller.missing().is_empty());
        assert!(
            seller.registration_number.is_some(),
            "the sample number is valid"
        );
        seller.phone = "  ".to_owned();
        assert_eq!(seller.missing(), vec!["seller_phone"]);
    }
}
