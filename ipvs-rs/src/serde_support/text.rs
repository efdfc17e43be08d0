//! Value types as strings in their text form.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{
    AddressFamily, Forwarding, Netmask, Protocol, Scheduler, ServiceKey, Tunnel, TunnelType,
    Version,
};

struct TextVisitor<T>(std::marker::PhantomData<T>, &'static str);

impl<T> Visitor<'_> for TextVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a string", self.1)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        s.parse().map_err(E::custom)
    }
}

macro_rules! text_form {
    ($($ty:ty: $what:literal),* $(,)?) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(TextVisitor(std::marker::PhantomData, $what))
            }
        }
    )*};
}

text_form! {
    ServiceKey: "a service key such as tcp:192.168.0.10:80 or fwmark:7",
    Protocol: "a protocol (tcp, udp, sctp or a number)",
    AddressFamily: "an address family (inet, inet6 or a number)",
    Netmask: "a netmask (IPv4 mask or IPv6 prefix length)",
    Forwarding: "a forwarding method (route, masq, local, bypass, tunnel...)",
    Tunnel: "a tunnel (tunnel[:TYPE[:PORT]][+FLAG...])",
    TunnelType: "a tunnel type (ipip, gue, gre or a number)",
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor(
            std::marker::PhantomData,
            "a version such as 1.2.1",
        ))
    }
}

/// A mainline scheduler is its name; an out-of-tree one is `{"other": "NAME"}`, so a typo in
/// a plain name fails when the document is read.
impl Serialize for Scheduler {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Scheduler::Other(name) => {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("other", name)?;
                map.end()
            }
            known => serializer.serialize_str(known.name()),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum SchedulerForm {
    Known(String),
    Other { other: String },
}

impl<'de> Deserialize<'de> for Scheduler {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match SchedulerForm::deserialize(deserializer)? {
            SchedulerForm::Known(name) => name.parse().map_err(de::Error::custom),
            SchedulerForm::Other { other } => Ok(Scheduler::from_name(&other)),
        }
    }
}
