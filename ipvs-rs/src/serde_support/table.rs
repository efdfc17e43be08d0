//! Reconcile tables: a list of services, each with its `destinations`.

use serde::de::{self, Deserializer};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

use super::service::ServiceIn;
use crate::reconcile::{DestinationId, Entry, Table};
use crate::{Destination, Service};

#[derive(Serialize)]
struct EntryOut<'a> {
    #[serde(flatten)]
    service: &'a Service,
    destinations: &'a [Destination],
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EntryOut {
            service: &self.service,
            destinations: self.destinations(),
        }
        .serialize(serializer)
    }
}

/// Two destinations of one identity in a document are an error, not a silent last-wins.
fn entry<E: de::Error>(svc: ServiceIn) -> Result<Entry, E> {
    let service = svc.service();
    let destinations = svc.destinations.unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = destinations
        .iter()
        .map(DestinationId::of)
        .find(|id| !seen.insert(*id))
    {
        return Err(E::custom(format!(
            "service {} lists destination {twice} twice",
            service.key
        )));
    }
    Ok(Entry::new(service, destinations))
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        entry(ServiceIn::deserialize(deserializer)?)
    }
}

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for entry in self.iter() {
            seq.serialize_element(entry)?;
        }
        seq.end()
    }
}

/// The entries of a document, each service once.
fn table<'de, A: de::SeqAccess<'de>>(mut seq: A) -> Result<Table, A::Error> {
    let mut table = Table::new();
    while let Some(svc) = seq.next_element::<ServiceIn>()? {
        let entry: Entry = entry(svc)?;
        let key = entry.service.key;
        if table.contains(&key) {
            return Err(de::Error::custom(format!("service {key} is listed twice")));
        }
        let destinations = entry.destinations().to_vec();
        table.insert(entry.service, destinations);
    }
    Ok(table)
}

/// A table is a list of services, or (at the top, `root`) a map whose one key `services`
/// holds that list: the root of a TOML file must be a map, and a configuration file reads
/// better with a name.
struct TableVisitor {
    root: bool,
}

impl<'de> de::Visitor<'de> for TableVisitor {
    type Value = Table;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.root {
            "a list of services, or a map with one key `services` holding that list"
        } else {
            "a list of services"
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Table, A::Error> {
        table(seq)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Table, A::Error> {
        if !self.root {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "services" {
                return Err(de::Error::unknown_field(&key, &["services"]));
            }
            if found.is_some() {
                return Err(de::Error::duplicate_field("services"));
            }
            found = Some(map.next_value::<ServiceList>()?.0);
        }
        found.ok_or_else(|| de::Error::missing_field("services"))
    }
}

/// The list under `services`.
struct ServiceList(Table);

impl<'de> Deserialize<'de> for ServiceList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_seq(TableVisitor { root: false })
            .map(ServiceList)
    }
}

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TableVisitor { root: true })
    }
}
