//! Auto-type end to end: `tessera-autotype` types through XTEST into a
//! real X client (`xterm` running `cat` on a raw terminal, on a private
//! Xvfb; see `support/key_reader.rs`), and the test reads back exactly
//! what the client received.
//!
//! Xvfb's keyboard is a US map, which has no key for `é`, `€`, `ß` or `ж`:
//! those arrive only if auto-type maps a spare key code to them, and `@`
//! (Shift+2 there) only if it finds the right level; so the same text
//! would arrive on any layout.

use std::time::{Duration, Instant};

use tessera_autotype::{
    Action, AutoType, AutoTypeError, ConnectError, DisplayEnv, Fields, Sequence, Unavailable, WindowInfo,
};
use tessera_test_support::key_reader::{KeyReader, READER_TITLE};
use zeroize::Zeroizing;

fn connect(reader: &KeyReader) -> AutoType {
    let env = DisplayEnv { display: Some(reader.desktop.display()), ..DisplayEnv::default() };
    AutoType::connect_to(&env).expect("connect to the test's Xvfb")
}

fn fields() -> Fields {
    Fields {
        username: Zeroizing::new("alice@example.com".into()),
        password: Zeroizing::new("Pä@ss wörd-€ß-жé ü!".into()),
        totp: Some(Zeroizing::new("492039".into())),
        custom: vec![("PIN".into(), Zeroizing::new("0042".into()))],
        ..Fields::default()
    }
}

#[test]
fn the_focused_window_receives_exactly_the_typed_text_whatever_the_layout() {
    let reader = KeyReader::start();
    reader.focus(reader.window);
    let auto_type = connect(&reader);
    let map_before = reader.keyboard_map();

    let target = auto_type.focused_window().expect("the focused window");
    assert_eq!(target.id, reader.window);
    assert_eq!(target.title, READER_TITLE);
    assert_eq!(target.pid, Some(reader.xterm_pid()), "xterm's _NET_WM_PID");

    let sequence =
        Sequence::parse("{USERNAME}{TAB}{PASSWORD}{TAB}{TOTP}{DELAY 50}{S:PIN}{SPACE}{{}+x{}}{ENTER}").expect("parses");
    let started = Instant::now();
    auto_type.type_sequence(&target, &sequence, &fields()).expect("typed");
    let expected = "alice@example.com\tPä@ss wörd-€ß-жé ü!\t4920390042 {X}\r";
    let got = reader.wait_for_chars(expected.chars().count(), Duration::from_secs(5));
    assert_eq!(got, expected, "what xterm received");
    eprintln!("typed {} characters in {:?}", expected.chars().count(), started.elapsed());

    // Nothing more arrives, and the key codes borrowed for é, €, ß, ж, ü
    // are given back.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(reader.text(), expected);
    assert_eq!(reader.keyboard_map(), map_before, "the keyboard map is restored");
}

#[test]
fn the_same_text_arrives_on_german_and_french_layouts() {
    // German swaps y and z and has @ on AltGr+Q; French AZERTY moves a, q,
    // w, z and puts the digits on Shift. Typed by character, none of that
    // shows.
    let reader = KeyReader::start();
    reader.focus(reader.window);
    let auto_type = connect(&reader);
    let fields = Fields {
        username: Zeroizing::new("zoey.qwaz@example.com".into()),
        password: Zeroizing::new("Yz-1234567890-ä€".into()),
        ..Fields::default()
    };
    let mut maps = Vec::new();
    for layout in ["de", "fr", "us"] {
        reader.set_layout(layout);
        let map = reader.keyboard_map();
        assert!(!maps.contains(&map), "setxkbmap {layout} did not change the keyboard map");
        maps.push(map);
        reader.clear();
        let target = auto_type.focused_window().expect("the focused window");
        auto_type.type_sequence(&target, &Sequence::default(), &fields).expect("typed");
        let expected = "zoey.qwaz@example.com\tYz-1234567890-ä€\r";
        assert_eq!(reader.wait_for_chars(expected.chars().count(), Duration::from_secs(5)), expected, "on {layout}");
    }
}

#[test]
fn the_shortcut_modifiers_are_waited_for_then_released() {
    // The user still holds Ctrl of the shortcut: typed as is, "c" would be
    // ^C. Auto-type waits for the key to come up…
    let reader = KeyReader::start();
    reader.focus(reader.window);
    let auto_type = connect(&reader);
    let xdotool = |what: &str| {
        let out = reader.desktop.run("xdotool", &[what, "Control_L"]);
        assert!(out.status.success(), "xdotool {what}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let actions = [Action::Text(Zeroizing::new("abc".into()))];
    let target = auto_type.focused_window().expect("the focused window");
    xdotool("keydown");
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            xdotool("keyup");
        });
        auto_type.type_actions(&target, &actions).expect("typed");
    });
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_millis(1000), "{waited:?}");
    assert_eq!(reader.wait_for_chars(3, Duration::from_secs(5)), "abc");

    // …and lets it go itself after a second if it never does.
    reader.clear();
    xdotool("keydown");
    let started = Instant::now();
    auto_type.type_actions(&target, &actions).expect("typed");
    assert!(started.elapsed() >= Duration::from_millis(1000), "{:?}", started.elapsed());
    assert_eq!(reader.wait_for_chars(3, Duration::from_secs(5)), "abc");
}

#[test]
fn more_distinct_characters_than_spare_key_codes_still_arrive() {
    // Key codes get reused: each only after the client had time to look
    // its last press up.
    let reader = KeyReader::start();
    reader.focus(reader.window);
    let auto_type = connect(&reader);
    let map_before = reader.keyboard_map();
    let target = auto_type.focused_window().expect("the focused window");
    let text: String = ('а'..='я').chain('α'..='ω').collect();
    assert!(text.chars().count() > 2 * reader.spare_key_codes(), "the text must outnumber the spare key codes");
    auto_type.type_actions(&target, &[Action::Text(Zeroizing::new(text.clone()))]).expect("typed");
    assert_eq!(reader.wait_for_chars(text.chars().count(), Duration::from_secs(10)), text);
    assert_eq!(reader.keyboard_map(), map_before, "the keyboard map is restored");
}

#[test]
fn a_window_of_this_process_is_never_typed_into() {
    let reader = KeyReader::start();
    let auto_type = connect(&reader);
    let actions = Sequence::default().resolve(&fields()).expect("resolves");

    // By _NET_WM_PID, as Tessera's windows (GTK) carry it…
    let ours = reader.own_window("Tessera", true);
    reader.focus(ours);
    let target = auto_type.focused_window().expect("the focused window");
    assert_eq!((target.id, target.pid), (ours, Some(std::process::id())));
    let err = auto_type.type_actions(&target, &actions).expect_err("refused");
    assert_eq!(err, AutoTypeError::OwnWindow);
    assert!(err.to_string().contains("never types into Tessera"), "{err}");

    // …and by what the X server knows of the client, when it has none.
    let bare = reader.own_window("Tessera (no pid)", false);
    reader.focus(bare);
    let target = auto_type.focused_window().expect("the focused window");
    assert_eq!(target.pid, Some(std::process::id()), "the pid from X-Resource");
    assert_eq!(auto_type.type_actions(&target, &actions), Err(AutoTypeError::OwnWindow));

    // A forged WindowInfo naming the reader does not help while ours has
    // the focus: typing waits for the reader to be focused, then gives up.
    let forged = WindowInfo { id: reader.window, title: READER_TITLE.into(), pid: Some(reader.xterm_pid()) };
    let started = Instant::now();
    assert_eq!(auto_type.type_actions(&forged, &actions), Err(AutoTypeError::FocusChanged));
    assert!(started.elapsed() < Duration::from_secs(3), "bounded: {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(reader.text(), "", "nothing reached any window");
}

#[test]
fn focus_moving_away_before_typing_types_nothing() {
    let reader = KeyReader::start();
    reader.focus(reader.window);
    let auto_type = connect(&reader);
    let target = auto_type.focused_window().expect("the focused window");
    // The user clicks into another window before typing starts.
    let elsewhere = reader.own_window("Elsewhere", false);
    reader.focus(elsewhere);
    let err = auto_type.type_sequence(&target, &Sequence::default(), &fields()).expect_err("focus moved");
    assert_eq!(err, AutoTypeError::FocusChanged);
    assert_eq!(reader.text(), "");
}

#[test]
fn on_wayland_auto_type_says_it_is_unavailable_and_offers_the_clipboard() {
    let env =
        DisplayEnv { display: None, wayland_display: Some("wayland-0".into()), session_type: Some("wayland".into()) };
    let err = AutoType::connect_to(&env).err().expect("no auto-type on Wayland");
    assert_eq!(err, ConnectError::Unavailable(Unavailable::Wayland));
    assert_eq!(
        err.to_string(),
        "auto-type is not available on Wayland: Wayland does not let one program type into another's window. \
         Use copy to clipboard instead"
    );
}
