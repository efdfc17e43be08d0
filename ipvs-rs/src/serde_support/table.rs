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

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut table = Table::new();
        for svc in Vec::<ServiceIn>::deserialize(deserializer)? {
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
}
