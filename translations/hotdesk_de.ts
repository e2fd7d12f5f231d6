<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
    <context>
        <name>hotdesk::cli::EmbeddedFrontend</name>
        <message>
            <source>Sign in to continue</source>
            <translation>Zum Fortfahren anmelden</translation>
        </message>
        <message>
            <source>Sign-in was cancelled.</source>
            <translation>Die Anmeldung wurde abgebrochen.</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::flow::ReauthFlow</name>
        <message>
            <source>No user name was given.</source>
            <translation>Es wurde kein Benutzername angegeben.</translation>
        </message>
        <message>
            <source>no device fingerprint</source>
            <translation>kein Geräte-Fingerabdruck</translation>
        </message>
        <message>
            <source>Sign-in was cancelled.</source>
            <translation>Die Anmeldung wurde abgebrochen.</translation>
        </message>
        <message>
            <source>Contacting the identity provider…</source>
            <translation>Verbindung zum Identitätsanbieter wird hergestellt …</translation>
        </message>
        <message>
            <source>Registering %1 on this PC…</source>
            <translation>%1 wird auf diesem PC registriert …</translation>
        </message>
        <message>
            <source>Asking the device authentication server for a sign-in request…</source>
            <translation>Der Geräte-Authentifizierungsserver wird um eine Anmeldeanfrage gebeten …</translation>
        </message>
        <message>
            <source>no random numbers for the sign-in request</source>
            <translation>keine Zufallszahlen für die Anmeldeanfrage</translation>
        </message>
        <message>
            <source>The device authentication server signed a request for client "%1", but the policy names "%2".</source>
            <translation>Der Geräte-Authentifizierungsserver hat eine Anfrage für den Client „%1“ signiert, die Richtlinie nennt aber „%2“.</translation>
        </message>
        <message>
            <source>This PC is not recognized. Asking an administrator to approve it…</source>
            <translation>Dieser PC wird nicht erkannt. Ein Administrator wird um Freigabe gebeten …</translation>
        </message>
        <message>
            <source>No administrator approved this PC in time. Ask your administrator, then try again.</source>
            <translation>Kein Administrator hat diesen PC rechtzeitig freigegeben. Wenden Sie sich an Ihren Administrator und versuchen Sie es dann erneut.</translation>
        </message>
        <message>
            <source>The approval request for this PC was %1. Ask your administrator.</source>
            <translation>Die Freigabeanfrage für diesen PC wurde mit „%1“ beantwortet. Wenden Sie sich an Ihren Administrator.</translation>
        </message>
        <message>
            <source>This PC is not recognized. Sending you a one-time code…</source>
            <translation>Dieser PC wird nicht erkannt. Ihnen wird ein Einmalcode gesendet …</translation>
        </message>
        <message>
            <source>No one-time code was entered in time. Try again.</source>
            <translation>Es wurde nicht rechtzeitig ein Einmalcode eingegeben. Versuchen Sie es erneut.</translation>
        </message>
        <message>
            <source>A one-time code was sent to you by another way (e-mail). Enter it to register this PC.</source>
            <translation>Ihnen wurde auf anderem Weg (E-Mail) ein Einmalcode gesendet. Geben Sie ihn ein, um diesen PC zu registrieren.</translation>
        </message>
        <message>
            <source>That code is not right. Check it and enter it again.</source>
            <translation>Dieser Code stimmt nicht. Prüfen Sie ihn und geben Sie ihn erneut ein.</translation>
        </message>
        <message>
            <source>Approve the sign-in on your phone.</source>
            <translation>Bestätigen Sie die Anmeldung auf Ihrem Telefon.</translation>
        </message>
        <message>
            <source>The sign-in was not completed in time. Try again, and approve on your phone when asked.</source>
            <translation>Die Anmeldung wurde nicht rechtzeitig abgeschlossen. Versuchen Sie es erneut und bestätigen Sie auf Ihrem Telefon, sobald Sie gefragt werden.</translation>
        </message>
        <message>
            <source>Completing the sign-in…</source>
            <translation>Die Anmeldung wird abgeschlossen …</translation>
        </message>
        <message>
            <source>Checking the identity provider's answer…</source>
            <translation>Die Antwort des Identitätsanbieters wird geprüft …</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::AuthBrowserDialog</name>
        <message>
            <source>Sign in – Hotdesk</source>
            <translation>Anmelden – Hotdesk</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::AuthBrowserWidget</name>
        <message>
            <source>Sign-in status</source>
            <translation>Anmeldestatus</translation>
        </message>
        <message>
            <source>Loading the sign-in page</source>
            <translation>Die Anmeldeseite wird geladen</translation>
        </message>
        <message>
            <source>What went wrong</source>
            <translation>Was schiefgegangen ist</translation>
        </message>
        <message>
            <source>&amp;Retry</source>
            <translation>&amp;Erneut versuchen</translation>
        </message>
        <message>
            <source>Retry</source>
            <translation>Erneut versuchen</translation>
        </message>
        <message>
            <source>Load the sign-in page again</source>
            <translation>Die Anmeldeseite erneut laden</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>Abbrechen</translation>
        </message>
        <message>
            <source>Cancel sign-in</source>
            <translation>Anmeldung abbrechen</translation>
        </message>
        <message>
            <source>Stop signing in and close the sign-in page</source>
            <translation>Die Anmeldung beenden und die Anmeldeseite schließen</translation>
        </message>
        <message>
            <source>Sign-in page</source>
            <translation>Anmeldeseite</translation>
        </message>
        <message>
            <source>Connecting to sign-in page…</source>
            <translation>Verbindung zur Anmeldeseite wird hergestellt …</translation>
        </message>
        <message>
            <source>Sign-in cancelled.</source>
            <translation>Anmeldung abgebrochen.</translation>
        </message>
        <message>
            <source>Returning to Hotdesk…</source>
            <translation>Zurück zu Hotdesk …</translation>
        </message>
        <message>
            <source>%1 opens in your web browser; this window only shows the sign-in page.</source>
            <translation>%1 wird in Ihrem Webbrowser geöffnet; dieses Fenster zeigt nur die Anmeldeseite.</translation>
        </message>
        <message>
            <source>The identity provider sent this window to %1, outside %2. Only the identity provider's own pages open here. Tell your administrator.</source>
            <translation>Der Identitätsanbieter hat dieses Fenster zu %1 geschickt, außerhalb von %2. Hier öffnen sich nur die Seiten des Identitätsanbieters. Informieren Sie Ihren Administrator.</translation>
        </message>
        <message>
            <source>This window only shows the identity provider's pages; %1 was not opened.</source>
            <translation>Dieses Fenster zeigt nur die Seiten des Identitätsanbieters; %1 wurde nicht geöffnet.</translation>
        </message>
        <message>
            <source>The sign-in page at %1 could not prove its identity (%2), so it was not opened. Tell your administrator: the identity provider's certificate, or the CA bundle of the Hotdesk policy, needs fixing.</source>
            <translation>Die Anmeldeseite unter %1 konnte ihre Identität nicht nachweisen (%2) und wurde daher nicht geöffnet. Informieren Sie Ihren Administrator: Das Zertifikat des Identitätsanbieters oder das CA-Bündel der Hotdesk-Richtlinie muss korrigiert werden.</translation>
        </message>
        <message>
            <source>Sign in with your organisation's account. This window closes by itself when you are done.</source>
            <translation>Melden Sie sich mit dem Konto Ihrer Organisation an. Dieses Fenster schließt sich von selbst, wenn Sie fertig sind.</translation>
        </message>
        <message>
            <source>The sign-in page at %1 answered with an error (%2). Choose Retry; if it keeps failing, tell your administrator.</source>
            <translation>Die Anmeldeseite unter %1 hat mit einem Fehler geantwortet (%2). Wählen Sie „Erneut versuchen“; wenn es weiter fehlschlägt, informieren Sie Ihren Administrator.</translation>
        </message>
        <message>
            <source>The sign-in page at %1 cannot be reached (%2). Check that this PC is connected to the network, then choose Retry. If it keeps failing, tell your administrator.</source>
            <translation>Die Anmeldeseite unter %1 ist nicht erreichbar (%2). Prüfen Sie, ob dieser PC mit dem Netzwerk verbunden ist, und wählen Sie dann „Erneut versuchen“. Wenn es weiter fehlschlägt, informieren Sie Ihren Administrator.</translation>
        </message>
        <message numerus="yes">
            <source>The sign-in page at %1 did not load within %n second(s). Check the network connection, then choose Retry. If it keeps happening, tell your administrator.</source>
            <translation>
                <numerusform>Die Anmeldeseite unter %1 wurde nicht innerhalb von %n Sekunde geladen. Prüfen Sie die Netzwerkverbindung und wählen Sie dann „Erneut versuchen“. Wenn es wieder passiert, informieren Sie Ihren Administrator.</numerusform>
                <numerusform>Die Anmeldeseite unter %1 wurde nicht innerhalb von %n Sekunden geladen. Prüfen Sie die Netzwerkverbindung und wählen Sie dann „Erneut versuchen“. Wenn es wieder passiert, informieren Sie Ihren Administrator.</numerusform>
            </translation>
        </message>
        <message>
            <source>The sign-in page did not open.</source>
            <translation>Die Anmeldeseite wurde nicht geöffnet.</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::DesktopIntegration</name>
        <message>
            <source>Hotdesk is protecting this PC</source>
            <translation>Hotdesk schützt diesen PC</translation>
        </message>
        <message>
            <source>Signed in as %1</source>
            <translation>Angemeldet als %1</translation>
        </message>
        <message>
            <source>Re-authentication due soon</source>
            <translation>Erneute Anmeldung in Kürze fällig</translation>
        </message>
        <message>
            <source>%1 must re-authenticate soon</source>
            <translation>%1 muss sich in Kürze erneut anmelden</translation>
        </message>
        <message>
            <source>Locked until someone signs in again</source>
            <translation>Gesperrt, bis sich jemand erneut anmeldet</translation>
        </message>
        <message>
            <source>Locked until %1 signs in again</source>
            <translation>Gesperrt, bis sich %1 erneut anmeldet</translation>
        </message>
        <message>
            <source>Offline: the authentication server cannot be reached</source>
            <translation>Offline: Der Authentifizierungsserver ist nicht erreichbar</translation>
        </message>
        <message>
            <source>Hotdesk has a problem; see the audit log</source>
            <translation>Hotdesk hat ein Problem; siehe Prüfprotokoll</translation>
        </message>
        <message>
            <source>Hotdesk: %1</source>
            <translation>Hotdesk: %1</translation>
        </message>
        <message>
            <source>Hotdesk: %1
%2</source>
            <translation>Hotdesk: %1
%2</translation>
        </message>
        <message>
            <source>Re-authenticate now</source>
            <translation>Jetzt erneut anmelden</translation>
        </message>
        <message>
            <source>Enroll this PC…</source>
            <translation>Diesen PC registrieren …</translation>
        </message>
        <message>
            <source>Open audit log</source>
            <translation>Prüfprotokoll öffnen</translation>
        </message>
        <message>
            <source>About Hotdesk</source>
            <translation>Über Hotdesk</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::LockWindow</name>
        <message>
            <source>Hotdesk: this PC is locked</source>
            <translation>Hotdesk: Dieser PC ist gesperrt</translation>
        </message>
        <message>
            <source>&amp;Sign in</source>
            <translation>&amp;Anmelden</translation>
        </message>
        <message>
            <source>Sign in again</source>
            <translation>Erneut anmelden</translation>
        </message>
        <message>
            <source>&amp;Cancel</source>
            <translation>A&amp;bbrechen</translation>
        </message>
        <message>
            <source>Cancel this sign-in attempt</source>
            <translation>Diesen Anmeldeversuch abbrechen</translation>
        </message>
        <message>
            <source>User name</source>
            <translation>Benutzername</translation>
        </message>
        <message>
            <source>User name of the person who wants to use this PC</source>
            <translation>Benutzername der Person, die diesen PC verwenden möchte</translation>
        </message>
        <message>
            <source>Co&amp;ntinue</source>
            <translation>&amp;Weiter</translation>
        </message>
        <message>
            <source>Continue as this user</source>
            <translation>Als dieser Benutzer fortfahren</translation>
        </message>
        <message>
            <source>Sign-in in progress</source>
            <translation>Anmeldung läuft</translation>
        </message>
        <message>
            <source>Sign-in page</source>
            <translation>Anmeldeseite</translation>
        </message>
        <message>
            <source>This PC is locked</source>
            <translation>Dieser PC ist gesperrt</translation>
        </message>
        <message>
            <source>Sign in on the main screen to continue.</source>
            <translation>Melden Sie sich am Hauptbildschirm an, um fortzufahren.</translation>
        </message>
        <message>
            <source>%1, please sign in again</source>
            <translation>%1, bitte melden Sie sich erneut an</translation>
        </message>
        <message>
            <source>Attempts left: %1</source>
            <translation>Verbleibende Versuche: %1</translation>
        </message>
        <message>
            <source>S&amp;witch user</source>
            <translation>Benutzer &amp;wechseln</translation>
        </message>
        <message>
            <source>Not %1? S&amp;witch user</source>
            <translation>Nicht %1? Benutzer &amp;wechseln</translation>
        </message>
        <message>
            <source>Sign in as another user</source>
            <translation>Als anderer Benutzer anmelden</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::X11IdleSource</name>
        <message>
            <source>The X server's idle time can be read only by a graphical application; this program has none.</source>
            <translation>Die Leerlaufzeit des X-Servers kann nur eine grafische Anwendung lesen; dieses Programm ist keine.</translation>
        </message>
        <message>
            <source>The connection to the X server is broken, so its idle time cannot be read.</source>
            <translation>Die Verbindung zum X-Server ist unterbrochen, daher kann seine Leerlaufzeit nicht gelesen werden.</translation>
        </message>
        <message>
            <source>The X server's idle time can be read only when the agent runs on X11; it runs on the "%1" platform.</source>
            <translation>Die Leerlaufzeit des X-Servers kann nur gelesen werden, wenn der Agent unter X11 läuft; er läuft auf der Plattform „%1“.</translation>
        </message>
        <message>
            <source>This is a Wayland session: its X server (Xwayland) sees only the input of X11 programs, so its idle time is not used. The idle trigger needs a Wayland desktop that tells the idle time over D-Bus, such as GNOME or KDE Plasma.</source>
            <translation>Dies ist eine Wayland-Sitzung: Der X-Server der Sitzung (Xwayland) sieht nur die Eingaben von X11-Programmen, daher wird seine Leerlaufzeit nicht verwendet. Der Leerlauf-Auslöser braucht einen Wayland-Desktop, der die Leerlaufzeit über D-Bus mitteilt, etwa GNOME oder KDE Plasma.</translation>
        </message>
        <message>
            <source>The X server does not offer the MIT-SCREEN-SAVER extension, so its idle time cannot be read.</source>
            <translation>Der X-Server bietet die Erweiterung MIT-SCREEN-SAVER nicht an, daher kann seine Leerlaufzeit nicht gelesen werden.</translation>
        </message>
        <message>
            <source>The X server refused to tell its idle time (X error %1).</source>
            <translation>Der X-Server hat die Auskunft über seine Leerlaufzeit verweigert (X-Fehler %1).</translation>
        </message>
    </context>
</TS>
