//! The panel's side of the tray protocol, for tests that click the real
//! tray menu.
//!
//! On Linux the app's tray icon is a StatusNotifierItem (Tauri's
//! `tray-icon` over libayatana-appindicator). The library exports the
//! icon and its menu over D-Bus only when a `org.kde.StatusNotifierWatcher`
//! is on the session bus and says a host (a panel) is listening; without
//! one it falls back to an XEmbed icon that nothing but a real panel can
//! click. [`StatusNotifierWatcher`] is that watcher, on the test's private
//! bus, taken before the app starts; [`TrayMenu`] then reads the item's
//! `Menu` (a `com.canonical.dbusmenu` object) and sends the same
//! `Event(id, "clicked", …)` a panel sends when the user picks an entry.
//!
//! Specifications: freedesktop's StatusNotifierItem (the watcher's methods,
//! properties and signals) and libdbusmenu's `com.canonical.dbusmenu`
//! interface (`GetLayout`, `Event`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";

/// The registered items, as `BUS_NAME/OBJECT/PATH` (KDE's form when an
/// item registers with its object path).
type Items = Arc<Mutex<Vec<String>>>;

struct Watcher {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    /// An item registers by its bus name or, as libayatana-appindicator
    /// does, by its object path (the bus name is then the caller's).
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let item = if service.starts_with('/') { format!("{sender}{service}") } else { service.to_owned() };
        {
            let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
            if !items.contains(&item) {
                items.push(item.clone());
            }
        }
        Self::status_notifier_item_registered(&emitter, &item).await?;
        Ok(())
    }

    async fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Always true: the test is the host.
    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(emitter: &SignalEmitter<'_>, service: &str) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_item_unregistered(emitter: &SignalEmitter<'_>, service: &str) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_unregistered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

/// A StatusNotifierWatcher on a bus, serving until dropped.
pub struct StatusNotifierWatcher {
    connection: zbus::blocking::Connection,
    items: Items,
}

impl StatusNotifierWatcher {
    /// Takes `org.kde.StatusNotifierWatcher` on the bus at `address` and
    /// serves `/StatusNotifierWatcher`.
    pub fn start(address: &str) -> StatusNotifierWatcher {
        let items = Items::default();
        let connection = zbus::blocking::connection::Builder::address(address)
            .and_then(|b| b.name(WATCHER_NAME))
            .and_then(|b| b.serve_at(WATCHER_PATH, Watcher { items: items.clone() }))
            .and_then(|b| b.build())
            .unwrap_or_else(|e| panic!("cannot serve a StatusNotifierWatcher on the test bus: {e}"));
        StatusNotifierWatcher { connection, items }
    }

    /// The items registered so far (`BUS_NAME/OBJECT/PATH`).
    pub fn items(&self) -> Vec<String> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The menu of a registered item: its `Menu` property, read from the
    /// item as a panel reads it.
    pub fn menu_of(&self, item: &str) -> Result<TrayMenu, String> {
        let slash = item.find('/').ok_or_else(|| format!("item {item:?} has no object path"))?;
        let (bus_name, path) = item.split_at(slash);
        let reply = self
            .connection
            .call_method(
                Some(bus_name),
                path,
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(ITEM_INTERFACE, "Menu"),
            )
            .map_err(|e| format!("Get {ITEM_INTERFACE}.Menu of {item}: {e}"))?;
        let value: OwnedValue = reply.body().deserialize().map_err(|e| format!("the Menu property: {e}"))?;
        let menu = OwnedObjectPath::try_from(value).map_err(|e| format!("the Menu property is no object path: {e}"))?;
        Ok(TrayMenu { connection: self.connection.clone(), bus_name: bus_name.to_owned(), path: menu })
    }
}

/// One entry of an exported menu, as `GetLayout` describes it.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub id: i32,
    /// The label as the toolkit gave it (mnemonic underscores included).
    pub label: String,
    /// dbusmenu leaves `enabled` out when it is true.
    pub enabled: bool,
    pub visible: bool,
    pub separator: bool,
    pub children: Vec<MenuEntry>,
}

impl MenuEntry {
    fn from_parts(id: i32, props: HashMap<String, OwnedValue>, children: Vec<OwnedValue>) -> MenuEntry {
        let string = |k: &str| props.get(k).and_then(|v| <&str>::try_from(&**v).ok().map(str::to_owned));
        let flag = |k: &str| props.get(k).and_then(|v| bool::try_from(&**v).ok());
        MenuEntry {
            id,
            label: string("label").unwrap_or_default(),
            enabled: flag("enabled").unwrap_or(true),
            visible: flag("visible").unwrap_or(true),
            separator: string("type").as_deref() == Some("separator"),
            children: children.iter().filter_map(|c| MenuEntry::from_value(c)).collect(),
        }
    }

    /// A child: a variant holding `(ia{sv}av)`.
    fn from_value(v: &Value<'_>) -> Option<MenuEntry> {
        let v = match v {
            Value::Value(inner) => &**inner,
            other => other,
        };
        let Value::Structure(s) = v else { return None };
        let [Value::I32(id), Value::Dict(props), Value::Array(children)] = s.fields() else { return None };
        let props: HashMap<String, OwnedValue> = props.try_clone().ok()?.try_into().ok()?;
        let children: Vec<OwnedValue> =
            children.iter().filter_map(|c| OwnedValue::try_from(c.try_clone().ok()?).ok()).collect();
        Some(MenuEntry::from_parts(*id, props, children))
    }

    /// The visible entries below this one, depth first, itself excluded.
    pub fn descendants(&self) -> Vec<&MenuEntry> {
        let mut out = Vec::new();
        for c in self.children.iter().filter(|c| c.visible) {
            out.push(c);
            out.extend(c.descendants());
        }
        out
    }

    /// The first visible entry below this one with this label.
    pub fn find(&self, label: &str) -> Option<&MenuEntry> {
        self.descendants().into_iter().find(|e| e.label == label)
    }
}

/// An item's exported `com.canonical.dbusmenu` menu.
pub struct TrayMenu {
    connection: zbus::blocking::Connection,
    bus_name: String,
    path: OwnedObjectPath,
}

impl TrayMenu {
    /// The whole menu tree (`GetLayout(0, -1, [])`); the root has no label.
    pub fn layout(&self) -> Result<MenuEntry, String> {
        let reply = self
            .connection
            .call_method(
                Some(self.bus_name.as_str()),
                self.path.as_str(),
                Some(MENU_INTERFACE),
                "GetLayout",
                &(0i32, -1i32, Vec::<&str>::new()),
            )
            .map_err(|e| format!("GetLayout: {e}"))?;
        type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
        let (_revision, (id, props, children)): (u32, Node) =
            reply.body().deserialize().map_err(|e| format!("the layout GetLayout gave: {e}"))?;
        Ok(MenuEntry::from_parts(id, props, children))
    }

    /// What a panel sends when the user picks entry `id`.
    pub fn click(&self, id: i32) -> Result<(), String> {
        let timestamp = u32::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        )
        .unwrap_or(0);
        self.connection
            .call_method(
                Some(self.bus_name.as_str()),
                self.path.as_str(),
                Some(MENU_INTERFACE),
                "Event",
                &(id, "clicked", Value::from(0i32), timestamp),
            )
            .map(drop)
            .map_err(|e| format!("Event({id}, \"clicked\"): {e}"))
    }
}
