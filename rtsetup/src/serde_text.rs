//! Serde for types whose text form is their data form: serialized with `Display`,
//! deserialized with `FromStr`, so JSON and TOML hold `"192.168.0.10/32"` rather than a struct.

/// Implements `Serialize` and `Deserialize` for `$type` through its `Display` and `FromStr`.
macro_rules! serde_as_text {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use serde_as_text;

#[cfg(test)]
mod tests {
    use crate::{IpNet, MacAddr};

    #[test]
    fn addresses_travel_as_their_text_and_bad_text_is_refused() {
        let net: IpNet = serde_json::from_str("\"192.168.0.10/32\"").unwrap();
        assert_eq!(net, "192.168.0.10/32".parse().unwrap());
        assert_eq!(serde_json::to_string(&net).unwrap(), "\"192.168.0.10/32\"");
        let mac: MacAddr = serde_json::from_str("\"02:00:00:00:00:0a\"").unwrap();
        assert_eq!(mac, MacAddr([2, 0, 0, 0, 0, 10]));
        assert_eq!(
            serde_json::to_string(&mac).unwrap(),
            "\"02:00:00:00:00:0a\""
        );
        let error = serde_json::from_str::<IpNet>("\"192.168.0.10/33\"").unwrap_err();
        assert!(error.to_string().contains("/33"), "{error}");
        assert!(serde_json::from_str::<MacAddr>("\"02:00\"").is_err());
        assert!(serde_json::from_str::<MacAddr>("7").is_err());
    }
}
