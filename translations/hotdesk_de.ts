<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
    <context>
        <name>hotdesk::agent::AgentController</name>
        <message>
            <source>Hotdesk restarted while this PC was locked.</source>
            <translation>Hotdesk wurde neu gestartet, während dieser PC gesperrt war.</translation>
        </message>
        <message>
            <source>no valid policy: %1</source>
            <translation>keine gültige Richtlinie: %1</translation>
        </message>
        <message>
            <source>There is no valid Hotdesk policy on this PC (%1). Ask your administrator.</source>
            <translation>Auf diesem PC gibt es keine gültige Hotdesk-Richtlinie (%1). Wenden Sie sich an Ihre Administration.</translation>
        </message>
        <message>
            <source>policy reloaded from %1</source>
            <translation>Richtlinie neu geladen aus %1</translation>
        </message>
        <message>
            <source>session of %1 started</source>
            <translation>Sitzung von %1 begonnen</translation>
        </message>
        <message>
            <source>Re-authentication soon</source>
            <translation>Erneute Anmeldung in Kürze</translation>
        </message>
        <message numerus="yes">
            <source>You will be asked to sign in again with your phone in %n minute(s).</source>
            <translation>
                <numerusform>Sie werden in %n Minute gebeten, sich erneut mit Ihrem Telefon anzumelden.</numerusform>
                <numerusform>Sie werden in %n Minuten gebeten, sich erneut mit Ihrem Telefon anzumelden.</numerusform>
            </translation>
        </message>
        <message>
            <source>%1 will be asked to re-authenticate in %2 minute(s)</source>
            <translation>%1 wird in %2 Minute(n) zur erneuten Anmeldung aufgefordert</translation>
        </message>
        <message>
            <source>%1 must also give the account password</source>
            <translation>%1 muss auch das Kontopasswort eingeben</translation>
        </message>
        <message>
            <source>trigger %1: %2 must re-authenticate</source>
            <translation>Auslöser %1: %2 muss sich erneut anmelden</translation>
        </message>
        <message>
            <source>Too many failed sign-ins. %1 cannot sign in again before %2; another user can switch in.</source>
            <translation>Zu viele fehlgeschlagene Anmeldungen. %1 kann sich erst ab %2 wieder anmelden; eine andere Person kann wechseln.</translation>
        </message>
        <message>
            <source>%1 is locked out; the PC stays locked</source>
            <translation>%1 ist gesperrt; der PC bleibt gesperrt</translation>
        </message>
        <message>
            <source>%1 is locked out after %2 failed attempts</source>
            <translation>%1 ist nach %2 fehlgeschlagenen Versuchen gesperrt</translation>
        </message>
        <message numerus="yes">
            <source>unlocked offline for %1 (%n offline unlock(s) left)</source>
            <translation>
                <numerusform>offline entsperrt für %1 (noch %n Offline-Entsperrung)</numerusform>
                <numerusform>offline entsperrt für %1 (noch %n Offline-Entsperrungen)</numerusform>
            </translation>
        </message>
        <message>
            <source>Offline unlock is not possible: %1 has not signed in with the phone on this PC recently enough.</source>
            <translation>Offline-Entsperren ist nicht möglich: %1 hat sich an diesem PC nicht kürzlich genug mit dem Telefon angemeldet.</translation>
        </message>
        <message>
            <source>Offline unlock is not possible: the offline unlocks allowed until the next sign-in with the phone are used up.</source>
            <translation>Offline-Entsperren ist nicht möglich: Die bis zur nächsten Anmeldung mit dem Telefon erlaubten Offline-Entsperrungen sind aufgebraucht.</translation>
        </message>
        <message>
            <source>The sign-in service can be reached again: select Sign in.</source>
            <translation>Der Anmeldedienst ist wieder erreichbar: Wählen Sie Anmelden.</translation>
        </message>
        <message>
            <source>Offline unlock is not possible (%1).</source>
            <translation>Offline-Entsperren ist nicht möglich (%1).</translation>
        </message>
        <message>
            <source>This is the first sign-in on this PC in a while: confirm it is you with your phone.</source>
            <translation>Dies ist die erste Anmeldung an diesem PC seit einer Weile: Bestätigen Sie mit Ihrem Telefon, dass Sie es sind.</translation>
        </message>
        <message>
            <source>Your session has reached the time limit your administrator set.</source>
            <translation>Ihre Sitzung hat das von Ihrer Administration festgelegte Zeitlimit erreicht.</translation>
        </message>
        <message>
            <source>This PC was left without input for a while.</source>
            <translation>An diesem PC gab es eine Weile keine Eingabe.</translation>
        </message>
        <message>
            <source>The screen was unlocked: confirm it is you with your phone.</source>
            <translation>Der Bildschirm wurde entsperrt: Bestätigen Sie mit Ihrem Telefon, dass Sie es sind.</translation>
        </message>
        <message>
            <source>%1 needs a fresh sign-in.</source>
            <translation>%1 erfordert eine neue Anmeldung.</translation>
        </message>
        <message>
            <source>These files need a fresh sign-in.</source>
            <translation>Diese Dateien erfordern eine neue Anmeldung.</translation>
        </message>
        <message>
            <source>The microphone is in use: confirm it is you.</source>
            <translation>Das Mikrofon wird benutzt: Bestätigen Sie, dass Sie es sind.</translation>
        </message>
        <message>
            <source>The camera is in use: confirm it is you.</source>
            <translation>Die Kamera wird benutzt: Bestätigen Sie, dass Sie es sind.</translation>
        </message>
        <message>
            <source>A scheduled re-authentication is due.</source>
            <translation>Eine geplante erneute Anmeldung ist fällig.</translation>
        </message>
        <message>
            <source>Too many failed sign-ins.</source>
            <translation>Zu viele fehlgeschlagene Anmeldungen.</translation>
        </message>
        <message>
            <source>A re-authentication was requested.</source>
            <translation>Eine erneute Anmeldung wurde angefordert.</translation>
        </message>
        <message>
            <source>re-authentication asked of hotdeskd (%1)</source>
            <translation>Neuanmeldung bei hotdeskd angefordert (%1)</translation>
        </message>
        <message>
            <source>The system service cannot be reached; the lock stays until it is back. Ask the help desk if this goes on.</source>
            <translation>Der Systemdienst ist nicht erreichbar; die Sperre bleibt, bis er wieder da ist. Wenden Sie sich an den Helpdesk, wenn das anhält.</translation>
        </message>
        <message>
            <source>Sign-in is blocked for %1 for now. Another user can switch in.</source>
            <translation>Die Anmeldung ist für %1 vorerst gesperrt. Eine andere Person kann wechseln.</translation>
        </message>
        <message>
            <source>the lock is handed to hotdeskd</source>
            <translation>die Sperre geht an hotdeskd über</translation>
        </message>
        <message>
            <source>Connecting to the sign-in service…</source>
            <translation>Verbindung zum Anmeldedienst wird hergestellt …</translation>
        </message>
        <message>
            <source>The sign-in was cancelled.</source>
            <translation>Die Anmeldung wurde abgebrochen.</translation>
        </message>
        <message>
            <source>%1 goes to the login screen; the session of %2 stays locked</source>
            <translation>%1 geht zum Anmeldebildschirm; die Sitzung von %2 bleibt gesperrt</translation>
        </message>
        <message>
            <source>%1 switches in at the lock screen</source>
            <translation>%1 wechselt am Sperrbildschirm herein</translation>
        </message>
        <message>
            <source>Sign in to use this PC.</source>
            <translation>Melden Sie sich an, um diesen PC zu benutzen.</translation>
        </message>
        <message>
            <source>Offline unlock: type the account password of %1:</source>
            <translation>Offline-Entsperrung: Geben Sie das Kontopasswort von %1 ein:</translation>
        </message>
        <message>
            <source>The system service cannot be reached; offline unlock is not possible now.</source>
            <translation>Der Systemdienst ist nicht erreichbar; eine Offline-Entsperrung ist jetzt nicht möglich.</translation>
        </message>
        <message>
            <source>Checking the password…</source>
            <translation>Das Passwort wird geprüft …</translation>
        </message>
        <message>
            <source>offline unlock asked of hotdeskd</source>
            <translation>Offline-Entsperrung bei hotdeskd angefragt</translation>
        </message>
        <message>
            <source>Checking the code…</source>
            <translation>Der Code wird geprüft…</translation>
        </message>
        <message>
            <source>Recovery codes do not lift this lock. Sign in with your phone, or ask the help desk.</source>
            <translation>Wiederherstellungscodes heben diese Sperre nicht auf. Melden Sie sich mit dem Telefon an oder wenden Sie sich an den Helpdesk.</translation>
        </message>
        <message>
            <source>Checking the recovery code…</source>
            <translation>Der Wiederherstellungscode wird geprüft…</translation>
        </message>
        <message>
            <source>checking a recovery code for %1</source>
            <translation>prüfe einen Wiederherstellungscode für %1</translation>
        </message>
        <message>
            <source>That recovery code is not right, or it was used before. Check it and try again.</source>
            <translation>Dieser Wiederherstellungscode ist falsch oder wurde schon benutzt. Prüfen Sie ihn und versuchen Sie es erneut.</translation>
        </message>
        <message>
            <source>%1 has no recovery codes on this PC. Sign in with the phone, or ask the help desk.</source>
            <translation>%1 hat auf diesem PC keine Wiederherstellungscodes. Melden Sie sich mit dem Telefon an oder wenden Sie sich an den Helpdesk.</translation>
        </message>
        <message>
            <source>The recovery code could not be checked: %1</source>
            <translation>Der Wiederherstellungscode konnte nicht geprüft werden: %1</translation>
        </message>
        <message>
            <source>That recovery code is not for %1.</source>
            <translation>Dieser Wiederherstellungscode gehört nicht zu %1.</translation>
        </message>
        <message numerus="yes">
            <source>unlocked for %1 with a recovery code (%n code(s) left)</source>
            <translation>
                <numerusform>für %1 mit einem Wiederherstellungscode entsperrt (noch %n Code)</numerusform>
                <numerusform>für %1 mit einem Wiederherstellungscode entsperrt (noch %n Codes)</numerusform>
            </translation>
        </message>
        <message>
            <source>lock screen could not grab the keyboard/pointer: %1; asking the OS lock</source>
            <translation>Sperrbildschirm konnte Tastatur/Zeiger nicht übernehmen: %1; die Sperre des Betriebssystems wird angefordert</translation>
        </message>
        <message>
            <source>%1 signed in; the ID token is valid</source>
            <translation>%1 ist angemeldet; das ID-Token ist gültig</translation>
        </message>
        <message>
            <source>This lock is lifted by the system service's sign-in. Select Sign in.</source>
            <translation>Diese Sperre hebt die Anmeldung des Systemdienstes auf. Wählen Sie Anmelden.</translation>
        </message>
        <message>
            <source>That sign-in was for %1, not %2. Try again.</source>
            <translation>Diese Anmeldung war für %1, nicht für %2. Versuchen Sie es erneut.</translation>
        </message>
        <message>
            <source>unlocked for %1</source>
            <translation>entsperrt für %1</translation>
        </message>
        <message>
            <source>sign-in of %1 failed: %2 (%3)</source>
            <translation>Anmeldung von %1 fehlgeschlagen: %2 (%3)</translation>
        </message>
        <message>
            <source>attached to hotdeskd for session %1</source>
            <translation>mit hotdeskd für Sitzung %1 verbunden</translation>
        </message>
        <message>
            <source>The sign-in service restarted. Sign in again.</source>
            <translation>Der Anmeldedienst wurde neu gestartet. Melden Sie sich erneut an.</translation>
        </message>
        <message>
            <source>hotdeskd refused: %1 (%2)</source>
            <translation>hotdeskd hat abgelehnt: %1 (%2)</translation>
        </message>
        <message>
            <source>The sign-in could not start: %1</source>
            <translation>Die Anmeldung konnte nicht beginnen: %1</translation>
        </message>
        <message>
            <source>Offline unlock is not possible now. Sign in with your phone, or ask the help desk.</source>
            <translation>Eine Offline-Entsperrung ist jetzt nicht möglich. Melden Sie sich mit dem Telefon an oder wenden Sie sich an den Helpdesk.</translation>
        </message>
        <message>
            <source>offline unlock refused by hotdeskd: %1</source>
            <translation>Offline-Entsperrung von hotdeskd abgelehnt: %1</translation>
        </message>
        <message>
            <source>That password was not accepted. The lock stays; try again, or sign in with your phone.</source>
            <translation>Dieses Passwort wurde nicht angenommen. Die Sperre bleibt; versuchen Sie es erneut oder melden Sie sich mit dem Telefon an.</translation>
        </message>
        <message>
            <source>hotdeskd requires the lock: %1</source>
            <translation>hotdeskd verlangt die Sperre: %1</translation>
        </message>
        <message>
            <source>There is no usable Hotdesk policy on this PC. Ask your administrator.</source>
            <translation>Auf diesem PC gibt es keine gültige Hotdesk-Richtlinie. Wenden Sie sich an Ihre Administration.</translation>
        </message>
        <message>
            <source>Too many failed sign-ins. Another user can switch in.</source>
            <translation>Zu viele fehlgeschlagene Anmeldungen. Eine andere Person kann sich anmelden.</translation>
        </message>
        <message>
            <source>signing in %1 through hotdeskd</source>
            <translation>%1 wird über hotdeskd angemeldet</translation>
        </message>
        <message>
            <source>The sign-in did not succeed. Try again, or ask the help desk.</source>
            <translation>Die Anmeldung ist nicht gelungen. Versuchen Sie es erneut oder wenden Sie sich an den Helpdesk.</translation>
        </message>
        <message>
            <source>Checking the sign-in…</source>
            <translation>Die Anmeldung wird geprüft …</translation>
        </message>
        <message>
            <source>recovery code for %1 handed to hotdeskd</source>
            <translation>Wiederherstellungscode für %1 an hotdeskd übergeben</translation>
        </message>
        <message>
            <source>The system service cannot be reached. Try again.</source>
            <translation>Der Systemdienst ist nicht erreichbar. Versuchen Sie es erneut.</translation>
        </message>
        <message>
            <source>%1 switches in at the lock screen of the kiosk account %2</source>
            <translation>%1 wechselt am Sperrbildschirm des Kiosk-Kontos %2 herein</translation>
        </message>
        <message>
            <source>Signing in %1: connecting to the sign-in service…</source>
            <translation>Anmeldung von %1: Verbindung zum Anmeldedienst wird hergestellt …</translation>
        </message>
        <message>
            <source>signing in %1 through hotdeskd in the kiosk account %2</source>
            <translation>%1 wird im Kiosk-Konto %2 über hotdeskd angemeldet</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::agent::DaemonTexts</name>
        <message>
            <source>Another sign-in or check for this session is under way. Wait a moment, then try again.</source>
            <translation>Für diese Sitzung läuft bereits eine Anmeldung oder Prüfung. Warten Sie einen Moment und versuchen Sie es dann erneut.</translation>
        </message>
        <message>
            <source>Sign-in is blocked for now after too many failed attempts.</source>
            <translation>Die Anmeldung ist nach zu vielen fehlgeschlagenen Versuchen vorerst gesperrt.</translation>
        </message>
        <message>
            <source>This session is not locked any more.</source>
            <translation>Diese Sitzung ist nicht mehr gesperrt.</translation>
        </message>
        <message>
            <source>Sign-in is not possible on this PC now. Ask your administrator.</source>
            <translation>Eine Anmeldung ist an diesem PC derzeit nicht möglich. Wenden Sie sich an Ihren Administrator.</translation>
        </message>
        <message>
            <source>Recovery codes are not allowed on this PC.</source>
            <translation>Wiederherstellungscodes sind auf diesem PC nicht erlaubt.</translation>
        </message>
        <message>
            <source>The system service refused this for this session.</source>
            <translation>Der Systemdienst hat dies für diese Sitzung abgelehnt.</translation>
        </message>
    </context>
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
        <name>hotdesk::cli::TrayAgent</name>
        <message>
            <source>Enroll this PC</source>
            <translation>Diesen PC registrieren</translation>
        </message>
        <message>
            <source>About Hotdesk</source>
            <translation>Über Hotdesk</translation>
        </message>
        <message>
            <source>Hotdesk %1
Re-authentication with your phone for shared PCs.</source>
            <translation>Hotdesk %1
Erneute Anmeldung mit dem Telefon für gemeinsam genutzte PCs.</translation>
        </message>
        <message>
            <source>The new policy has errors; the previous one stays in force. Run 'hotdesk policy check %1'.</source>
            <translation>Die neue Richtlinie enthält Fehler; die bisherige bleibt in Kraft. Führen Sie 'hotdesk policy check %1' aus.</translation>
        </message>
        <message>
            <source>policy rejected: %1</source>
            <translation>Richtlinie abgelehnt: %1</translation>
        </message>
        <message>
            <source>screen lock events from: %1</source>
            <translation>Ereignisse der Bildschirmsperre von: %1</translation>
        </message>
        <message>
            <source>idle time unavailable: %1</source>
            <translation>Leerlaufzeit nicht verfügbar: %1</translation>
        </message>
        <message numerus="yes">
            <source>screens locked (%n screen(s))</source>
            <translation>
                <numerusform>Bildschirme gesperrt (%n Bildschirm)</numerusform>
                <numerusform>Bildschirme gesperrt (%n Bildschirme)</numerusform>
            </translation>
        </message>
        <message>
            <source>This PC must be approved by an administrator (request %1). Waiting…</source>
            <translation>Dieser PC muss von der Administration freigegeben werden (Anfrage %1). Warten …</translation>
        </message>
        <message>
            <source>signing in %1</source>
            <translation>Anmeldung von %1</translation>
        </message>
        <message>
            <source>the administrator was told: %1</source>
            <translation>die Administration wurde benachrichtigt: %1</translation>
        </message>
        <message>
            <source>screenshot of the lock screen: %1</source>
            <translation>Bildschirmfoto des Sperrbildschirms: %1</translation>
        </message>
        <message>
            <source>Sign in with your organisation's account. The screens unlock by themselves when you are done.</source>
            <translation>Melden Sie sich mit dem Konto Ihrer Organisation an. Die Bildschirme werden danach von selbst entsperrt.</translation>
        </message>
        <message>
            <source>lock screen visible</source>
            <translation>Sperrbildschirm sichtbar</translation>
        </message>
        <message numerus="yes">
            <source>Type the %1-character code that was sent to you (valid until %2, %n attempt(s) left):</source>
            <translation>
                <numerusform>Geben Sie den %1-stelligen Code ein, der Ihnen geschickt wurde (gültig bis %2, noch %n Versuch):</numerusform>
                <numerusform>Geben Sie den %1-stelligen Code ein, der Ihnen geschickt wurde (gültig bis %2, noch %n Versuche):</numerusform>
            </translation>
        </message>
        <message>
            <source>This PC is not recognized. A one-time code was sent to you by e-mail; type it below.</source>
            <translation>Dieser PC wird nicht erkannt. Ihnen wurde ein Einmalcode per E-Mail geschickt; geben Sie ihn unten ein.</translation>
        </message>
        <message>
            <source>waiting for the one-time code sent to %1</source>
            <translation>warte auf den Einmalcode, der an %1 geschickt wurde</translation>
        </message>
        <message>
            <source>asking the identity provider for: %1</source>
            <translation>fordere beim Identitätsanbieter an: %1</translation>
        </message>
        <message>
            <source>this PC is enrolled as %1 with %2</source>
            <translation>dieser PC ist als %1 bei %2 registriert</translation>
        </message>
        <message>
            <source>This PC is enrolled</source>
            <translation>Dieser PC ist registriert</translation>
        </message>
        <message>
            <source>%1 enrolled this PC with %2. Sign-ins now work on it.</source>
            <translation>%1 hat diesen PC bei %2 registriert. Anmeldungen funktionieren jetzt an ihm.</translation>
        </message>
        <message>
            <source>enrolling this PC failed: %1 (%2)</source>
            <translation>Registrierung dieses PCs fehlgeschlagen: %1 (%2)</translation>
        </message>
        <message>
            <source>This PC was not enrolled.

%1

Ask your Hotdesk administrator if this goes on.</source>
            <translation>Dieser PC wurde nicht registriert.

%1

Wenden Sie sich an Ihre Hotdesk-Administration, wenn das so bleibt.</translation>
        </message>
        <message>
            <source>not attached to hotdeskd: %1</source>
            <translation>nicht mit hotdeskd verbunden: %1</translation>
        </message>
        <message>
            <source>the login screen of %1 is open</source>
            <translation>der Anmeldebildschirm von %1 ist geöffnet</translation>
        </message>
        <message>
            <source>The login screen is open for another person; this session stays locked.</source>
            <translation>Der Anmeldebildschirm ist für eine andere Person geöffnet; diese Sitzung bleibt gesperrt.</translation>
        </message>
        <message>
            <source>no login screen: %1</source>
            <translation>kein Anmeldebildschirm: %1</translation>
        </message>
        <message>
            <source>No login screen could be opened here. Ask the help desk, or sign in as %1.</source>
            <translation>Hier konnte kein Anmeldebildschirm geöffnet werden. Wenden Sie sich an den Helpdesk oder melden Sie sich als %1 an.</translation>
        </message>
        <message>
            <source>lock screen holds the keyboard and the pointer</source>
            <translation>Sperrbildschirm hält Tastatur und Zeiger</translation>
        </message>
        <message>
            <source>lock screen raised again (%1)</source>
            <translation>Sperrbildschirm wieder nach vorn geholt (%1)</translation>
        </message>
        <message>
            <source>the OS lock locked the session</source>
            <translation>die Sperre des Betriebssystems hat die Sitzung gesperrt</translation>
        </message>
        <message>
            <source>the OS lock failed: %1</source>
            <translation>die Sperre des Betriebssystems ist fehlgeschlagen: %1</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::cli::TrayEnrollment</name>
        <message>
            <source>Enroll this PC</source>
            <translation>Diesen PC registrieren</translation>
        </message>
        <message>
            <source>An administrator enrolls this PC with the device authentication server: sign in with your phone as you always do.

Administrator's user name:</source>
            <translation>Eine Administratorin oder ein Administrator registriert diesen PC beim Geräte-Authentifizierungsserver: Melden Sie sich wie immer mit Ihrem Telefon an.

Benutzername der Administration:</translation>
        </message>
        <message>
            <source>&amp;Sign in</source>
            <translation>&amp;Anmelden</translation>
        </message>
        <message>
            <source>%1 signs in to enroll this PC</source>
            <translation>%1 meldet sich an, um diesen PC zu registrieren</translation>
        </message>
        <message>
            <source>This PC is enrolled by an administrator with root rights: sudo hotdesk enroll (see hotdesk enroll --help).</source>
            <translation>Dieser PC wird von einer Administratorin oder einem Administrator mit Root-Rechten registriert: sudo hotdesk enroll (siehe hotdesk enroll --help).</translation>
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
        <name>hotdesk::ui::LockScreen</name>
        <message>
            <source>Sign-in was cancelled.</source>
            <translation>Die Anmeldung wurde abgebrochen.</translation>
        </message>
        <message>
            <source>Sign-in was cancelled. Select Sign in to try again.</source>
            <translation>Die Anmeldung wurde abgebrochen. Wählen Sie Anmelden, um es erneut zu versuchen.</translation>
        </message>
        <message>
            <source>The sign-in service could not be reached.</source>
            <translation>Der Anmeldedienst war nicht erreichbar.</translation>
        </message>
        <message>
            <source>The sign-in service could not be reached. Check the network cable or Wi-Fi, then select Sign in.</source>
            <translation>Der Anmeldedienst war nicht erreichbar. Prüfen Sie Netzwerkkabel oder WLAN und wählen Sie dann Anmelden.</translation>
        </message>
        <message>
            <source>The connection to the sign-in service is not trusted.</source>
            <translation>Die Verbindung zum Anmeldedienst ist nicht vertrauenswürdig.</translation>
        </message>
        <message>
            <source>The connection to the sign-in service is not trusted. Check the network cable or Wi-Fi, then select Sign in.</source>
            <translation>Die Verbindung zum Anmeldedienst ist nicht vertrauenswürdig. Prüfen Sie Netzwerkkabel oder WLAN und wählen Sie dann Anmelden.</translation>
        </message>
        <message>
            <source>The sign-in service reported an error.</source>
            <translation>Der Anmeldedienst hat einen Fehler gemeldet.</translation>
        </message>
        <message>
            <source>The sign-in service reported an error. Check the network cable or Wi-Fi, then select Sign in.</source>
            <translation>Der Anmeldedienst hat einen Fehler gemeldet. Prüfen Sie Netzwerkkabel oder WLAN und wählen Sie dann Anmelden.</translation>
        </message>
        <message>
            <source>The sign-in was refused.</source>
            <translation>Die Anmeldung wurde abgelehnt.</translation>
        </message>
        <message>
            <source>The sign-in was refused. Select Sign in to try again.</source>
            <translation>Die Anmeldung wurde abgelehnt. Wählen Sie Anmelden, um es erneut zu versuchen.</translation>
        </message>
        <message>
            <source>The sign-in service does not recognize this PC.</source>
            <translation>Der Anmeldedienst erkennt diesen PC nicht.</translation>
        </message>
        <message>
            <source>The sign-in service does not recognize this PC. Select Sign in to try again.</source>
            <translation>Der Anmeldedienst erkennt diesen PC nicht. Wählen Sie Anmelden, um es erneut zu versuchen.</translation>
        </message>
        <message>
            <source>The sign-in service does not know this user.</source>
            <translation>Der Anmeldedienst kennt diesen Benutzer nicht.</translation>
        </message>
        <message>
            <source>The sign-in service does not know this user. Select Sign in to try again.</source>
            <translation>Der Anmeldedienst kennt diesen Benutzer nicht. Wählen Sie Anmelden, um es erneut zu versuchen.</translation>
        </message>
        <message>
            <source>The sign-in could not be completed. Select Sign in to try again.</source>
            <translation>Die Anmeldung konnte nicht abgeschlossen werden. Wählen Sie Anmelden, um es erneut zu versuchen.</translation>
        </message>
        <message>
            <source>The Hotdesk policy on this PC cannot be used for this sign-in (%1).</source>
            <translation>Die Hotdesk-Richtlinie dieses PCs kann für diese Anmeldung nicht verwendet werden (%1).</translation>
        </message>
        <message>
            <source>The Hotdesk policy on this PC cannot be used for this sign-in. Tell your administrator.</source>
            <translation>Die Hotdesk-Richtlinie dieses PCs kann für diese Anmeldung nicht verwendet werden. Wenden Sie sich an Ihre Administration.</translation>
        </message>
        <message>
            <source>The sign-in could not be completed (%1).</source>
            <translation>Die Anmeldung konnte nicht abgeschlossen werden (%1).</translation>
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
        <message>
            <source>Unlock &amp;offline</source>
            <translation>&amp;Offline entsperren</translation>
        </message>
        <message>
            <source>Unlock without the sign-in service, as the offline policy allows</source>
            <translation>Ohne Anmeldedienst entsperren, wie es die Offline-Richtlinie erlaubt</translation>
        </message>
        <message>
            <source>Type one of your recovery codes (it looks like 7K3M-Q9TD):</source>
            <translation>Geben Sie einen Ihrer Wiederherstellungscodes ein (er sieht aus wie 7K3M-Q9TD):</translation>
        </message>
        <message>
            <source>Use a &amp;recovery code</source>
            <translation>Wieder&amp;herstellungscode verwenden</translation>
        </message>
        <message>
            <source>Unlock with one of your one-time recovery codes, for example when your phone is lost</source>
            <translation>Mit einem Ihrer einmaligen Wiederherstellungscodes entsperren, zum Beispiel wenn Ihr Telefon verloren ist</translation>
        </message>
        <message>
            <source>Sub&amp;mit</source>
            <translation>Ab&amp;senden</translation>
        </message>
        <message>
            <source>Submit the code</source>
            <translation>Den Code absenden</translation>
        </message>
        <message>
            <source>Code</source>
            <translation>Code</translation>
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
