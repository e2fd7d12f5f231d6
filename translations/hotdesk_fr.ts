<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
    <context>
        <name>hotdesk::agent::AgentController</name>
        <message>
            <source>Hotdesk restarted while this PC was locked.</source>
            <translation>Hotdesk a redémarré alors que ce PC était verrouillé.</translation>
        </message>
        <message>
            <source>no valid policy: %1</source>
            <translation>aucune stratégie valide : %1</translation>
        </message>
        <message>
            <source>There is no valid Hotdesk policy on this PC (%1). Ask your administrator.</source>
            <translation>Ce PC n’a pas de stratégie Hotdesk valide (%1). Contactez votre administrateur.</translation>
        </message>
        <message>
            <source>policy reloaded from %1</source>
            <translation>stratégie rechargée depuis %1</translation>
        </message>
        <message>
            <source>session of %1 started</source>
            <translation>session de %1 ouverte</translation>
        </message>
        <message>
            <source>Re-authentication soon</source>
            <translation>Réauthentification prochaine</translation>
        </message>
        <message numerus="yes">
            <source>You will be asked to sign in again with your phone in %n minute(s).</source>
            <translation>
                <numerusform>Vous devrez vous reconnecter avec votre téléphone dans %n minute.</numerusform>
                <numerusform>Vous devrez vous reconnecter avec votre téléphone dans %n minutes.</numerusform>
            </translation>
        </message>
        <message>
            <source>%1 will be asked to re-authenticate in %2 minute(s)</source>
            <translation>%1 devra se réauthentifier dans %2 minute(s)</translation>
        </message>
        <message>
            <source>%1 must also give the account password</source>
            <translation>%1 doit aussi saisir le mot de passe du compte</translation>
        </message>
        <message>
            <source>trigger %1: %2 must re-authenticate</source>
            <translation>déclencheur %1 : %2 doit se réauthentifier</translation>
        </message>
        <message>
            <source>Too many failed sign-ins. %1 cannot sign in again before %2; another user can switch in.</source>
            <translation>Trop d’échecs de connexion. %1 ne peut pas se reconnecter avant %2 ; un autre utilisateur peut prendre la main.</translation>
        </message>
        <message>
            <source>%1 is locked out; the PC stays locked</source>
            <translation>%1 est bloqué ; le PC reste verrouillé</translation>
        </message>
        <message>
            <source>%1 is locked out after %2 failed attempts</source>
            <translation>%1 est bloqué après %2 tentatives échouées</translation>
        </message>
        <message numerus="yes">
            <source>unlocked offline for %1 (%n offline unlock(s) left)</source>
            <translation>
                <numerusform>déverrouillé hors ligne pour %1 (%n déverrouillage hors ligne restant)</numerusform>
                <numerusform>déverrouillé hors ligne pour %1 (%n déverrouillages hors ligne restants)</numerusform>
            </translation>
        </message>
        <message>
            <source>Offline unlock is not possible: %1 has not signed in with the phone on this PC recently enough.</source>
            <translation>Déverrouillage hors ligne impossible : %1 ne s’est pas connecté avec son téléphone sur ce PC assez récemment.</translation>
        </message>
        <message>
            <source>Offline unlock is not possible: the offline unlocks allowed until the next sign-in with the phone are used up.</source>
            <translation>Déverrouillage hors ligne impossible : les déverrouillages hors ligne permis jusqu’à la prochaine connexion avec le téléphone sont épuisés.</translation>
        </message>
        <message>
            <source>The sign-in service can be reached again: select Sign in.</source>
            <translation>Le service d’authentification est de nouveau joignable : choisissez Se connecter.</translation>
        </message>
        <message>
            <source>Offline unlock is not possible (%1).</source>
            <translation>Déverrouillage hors ligne impossible (%1).</translation>
        </message>
        <message>
            <source>This is the first sign-in on this PC in a while: confirm it is you with your phone.</source>
            <translation>C’est la première connexion sur ce PC depuis un moment : confirmez votre identité avec votre téléphone.</translation>
        </message>
        <message>
            <source>Your session has reached the time limit your administrator set.</source>
            <translation>Votre session a atteint la durée limite fixée par votre administrateur.</translation>
        </message>
        <message>
            <source>This PC was left without input for a while.</source>
            <translation>Ce PC est resté un moment sans saisie.</translation>
        </message>
        <message>
            <source>The screen was unlocked: confirm it is you with your phone.</source>
            <translation>L’écran a été déverrouillé : confirmez votre identité avec votre téléphone.</translation>
        </message>
        <message>
            <source>%1 needs a fresh sign-in.</source>
            <translation>%1 nécessite une nouvelle connexion.</translation>
        </message>
        <message>
            <source>These files need a fresh sign-in.</source>
            <translation>Ces fichiers nécessitent une nouvelle connexion.</translation>
        </message>
        <message>
            <source>The microphone is in use: confirm it is you.</source>
            <translation>Le microphone est utilisé : confirmez votre identité.</translation>
        </message>
        <message>
            <source>The camera is in use: confirm it is you.</source>
            <translation>La caméra est utilisée : confirmez votre identité.</translation>
        </message>
        <message>
            <source>A scheduled re-authentication is due.</source>
            <translation>Une réauthentification planifiée est due.</translation>
        </message>
        <message>
            <source>Too many failed sign-ins.</source>
            <translation>Trop d’échecs de connexion.</translation>
        </message>
        <message>
            <source>A re-authentication was requested.</source>
            <translation>Une réauthentification a été demandée.</translation>
        </message>
        <message>
            <source>re-authentication asked of hotdeskd (%1)</source>
            <translation>réauthentification demandée à hotdeskd (%1)</translation>
        </message>
        <message>
            <source>The system service cannot be reached; the lock stays until it is back. Ask the help desk if this goes on.</source>
            <translation>Le service système est injoignable ; le verrouillage reste jusqu’à son retour. Contactez le support si cela persiste.</translation>
        </message>
        <message>
            <source>Sign-in is blocked for %1 for now. Another user can switch in.</source>
            <translation>La connexion est bloquée pour %1 pour le moment. Un autre utilisateur peut prendre la main.</translation>
        </message>
        <message>
            <source>the lock is handed to hotdeskd</source>
            <translation>le verrouillage est confié à hotdeskd</translation>
        </message>
        <message>
            <source>Connecting to the sign-in service…</source>
            <translation>Connexion au service d’authentification…</translation>
        </message>
        <message>
            <source>The sign-in was cancelled.</source>
            <translation>La connexion a été annulée.</translation>
        </message>
        <message>
            <source>%1 goes to the login screen; the session of %2 stays locked</source>
            <translation>%1 passe à l’écran de connexion ; la session de %2 reste verrouillée</translation>
        </message>
        <message>
            <source>%1 switches in at the lock screen</source>
            <translation>%1 prend la main sur l’écran de verrouillage</translation>
        </message>
        <message>
            <source>Sign in to use this PC.</source>
            <translation>Connectez-vous pour utiliser ce PC.</translation>
        </message>
        <message>
            <source>Offline unlock: type the account password of %1:</source>
            <translation>Déverrouillage hors ligne : saisissez le mot de passe du compte de %1 :</translation>
        </message>
        <message>
            <source>The system service cannot be reached; offline unlock is not possible now.</source>
            <translation>Le service système est injoignable ; le déverrouillage hors ligne n’est pas possible maintenant.</translation>
        </message>
        <message>
            <source>Checking the password…</source>
            <translation>Vérification du mot de passe…</translation>
        </message>
        <message>
            <source>offline unlock asked of hotdeskd</source>
            <translation>déverrouillage hors ligne demandé à hotdeskd</translation>
        </message>
        <message>
            <source>Checking the code…</source>
            <translation>Vérification du code…</translation>
        </message>
        <message>
            <source>Recovery codes do not lift this lock. Sign in with your phone, or ask the help desk.</source>
            <translation>Les codes de récupération ne lèvent pas ce verrouillage. Connectez-vous avec votre téléphone ou adressez-vous au support.</translation>
        </message>
        <message>
            <source>Checking the recovery code…</source>
            <translation>Vérification du code de secours…</translation>
        </message>
        <message>
            <source>checking a recovery code for %1</source>
            <translation>vérification d’un code de secours pour %1</translation>
        </message>
        <message>
            <source>That recovery code is not right, or it was used before. Check it and try again.</source>
            <translation>Ce code de secours est incorrect ou a déjà été utilisé. Vérifiez-le et réessayez.</translation>
        </message>
        <message>
            <source>%1 has no recovery codes on this PC. Sign in with the phone, or ask the help desk.</source>
            <translation>%1 n’a pas de codes de secours sur ce PC. Connectez-vous avec le téléphone ou contactez le support.</translation>
        </message>
        <message>
            <source>The recovery code could not be checked: %1</source>
            <translation>Le code de secours n’a pas pu être vérifié : %1</translation>
        </message>
        <message>
            <source>That recovery code is not for %1.</source>
            <translation>Ce code de secours n’appartient pas à %1.</translation>
        </message>
        <message numerus="yes">
            <source>unlocked for %1 with a recovery code (%n code(s) left)</source>
            <translation>
                <numerusform>déverrouillé pour %1 avec un code de secours (%n code restant)</numerusform>
                <numerusform>déverrouillé pour %1 avec un code de secours (%n codes restants)</numerusform>
            </translation>
        </message>
        <message>
            <source>lock screen could not grab the keyboard/pointer: %1; asking the OS lock</source>
            <translation>l'écran de verrouillage n'a pas pu prendre le clavier/le pointeur : %1 ; le verrouillage du système est demandé</translation>
        </message>
        <message>
            <source>%1 signed in; the ID token is valid</source>
            <translation>%1 est connecté ; le jeton d’identité est valide</translation>
        </message>
        <message>
            <source>This lock is lifted by the system service's sign-in. Select Sign in.</source>
            <translation>Ce verrouillage est levé par la connexion du service système. Choisissez Se connecter.</translation>
        </message>
        <message>
            <source>That sign-in was for %1, not %2. Try again.</source>
            <translation>Cette connexion était pour %1, pas pour %2. Réessayez.</translation>
        </message>
        <message>
            <source>unlocked for %1</source>
            <translation>déverrouillé pour %1</translation>
        </message>
        <message>
            <source>sign-in of %1 failed: %2 (%3)</source>
            <translation>échec de la connexion de %1 : %2 (%3)</translation>
        </message>
        <message>
            <source>attached to hotdeskd for session %1</source>
            <translation>relié à hotdeskd pour la session %1</translation>
        </message>
        <message>
            <source>The sign-in service restarted. Sign in again.</source>
            <translation>Le service de connexion a redémarré. Connectez-vous à nouveau.</translation>
        </message>
        <message>
            <source>hotdeskd refused: %1 (%2)</source>
            <translation>hotdeskd a refusé : %1 (%2)</translation>
        </message>
        <message>
            <source>The sign-in could not start: %1</source>
            <translation>La connexion n’a pas pu commencer : %1</translation>
        </message>
        <message>
            <source>Offline unlock is not possible now. Sign in with your phone, or ask the help desk.</source>
            <translation>Le déverrouillage hors ligne n’est pas possible maintenant. Connectez-vous avec votre téléphone ou adressez-vous au support.</translation>
        </message>
        <message>
            <source>offline unlock refused by hotdeskd: %1</source>
            <translation>déverrouillage hors ligne refusé par hotdeskd : %1</translation>
        </message>
        <message>
            <source>That password was not accepted. The lock stays; try again, or sign in with your phone.</source>
            <translation>Ce mot de passe n’a pas été accepté. Le verrouillage reste ; réessayez ou connectez-vous avec votre téléphone.</translation>
        </message>
        <message>
            <source>hotdeskd requires the lock: %1</source>
            <translation>hotdeskd exige le verrouillage : %1</translation>
        </message>
        <message>
            <source>There is no usable Hotdesk policy on this PC. Ask your administrator.</source>
            <translation>Aucune politique Hotdesk utilisable sur ce PC. Adressez-vous à votre administrateur.</translation>
        </message>
        <message>
            <source>Too many failed sign-ins. Another user can switch in.</source>
            <translation>Trop d’échecs de connexion. Une autre personne peut prendre la place.</translation>
        </message>
        <message>
            <source>signing in %1 through hotdeskd</source>
            <translation>connexion de %1 par hotdeskd</translation>
        </message>
        <message>
            <source>The sign-in did not succeed. Try again, or ask the help desk.</source>
            <translation>La connexion a échoué. Réessayez ou adressez-vous au support.</translation>
        </message>
        <message>
            <source>Checking the sign-in…</source>
            <translation>Vérification de la connexion…</translation>
        </message>
        <message>
            <source>recovery code for %1 handed to hotdeskd</source>
            <translation>code de récupération de %1 transmis à hotdeskd</translation>
        </message>
        <message>
            <source>The system service cannot be reached. Try again.</source>
            <translation>Le service système est injoignable. Réessayez.</translation>
        </message>
        <message>
            <source>%1 switches in at the lock screen of the kiosk account %2</source>
            <translation>%1 prend la main sur l’écran de verrouillage du compte kiosque %2</translation>
        </message>
        <message>
            <source>Signing in %1: connecting to the sign-in service…</source>
            <translation>Authentification de %1 : connexion au service d’authentification…</translation>
        </message>
        <message>
            <source>signing in %1 through hotdeskd in the kiosk account %2</source>
            <translation>connexion de %1 par hotdeskd dans le compte kiosque %2</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::agent::DaemonTexts</name>
        <message>
            <source>Another sign-in or check for this session is under way. Wait a moment, then try again.</source>
            <translation>Une connexion ou une vérification est déjà en cours pour cette session. Patientez un instant, puis réessayez.</translation>
        </message>
        <message>
            <source>Sign-in is blocked for now after too many failed attempts.</source>
            <translation>La connexion est bloquée pour le moment après trop de tentatives échouées.</translation>
        </message>
        <message>
            <source>This session is not locked any more.</source>
            <translation>Cette session n’est plus verrouillée.</translation>
        </message>
        <message>
            <source>Sign-in is not possible on this PC now. Ask your administrator.</source>
            <translation>La connexion n’est pas possible sur ce PC pour le moment. Adressez-vous à votre administrateur.</translation>
        </message>
        <message>
            <source>Recovery codes are not allowed on this PC.</source>
            <translation>Les codes de récupération ne sont pas autorisés sur ce PC.</translation>
        </message>
        <message>
            <source>The system service refused this for this session.</source>
            <translation>Le service système a refusé cela pour cette session.</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::cli::EmbeddedFrontend</name>
        <message>
            <source>Sign in to continue</source>
            <translation>Connectez-vous pour continuer</translation>
        </message>
        <message>
            <source>Sign-in was cancelled.</source>
            <translation>La connexion a été annulée.</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::cli::TrayAgent</name>
        <message>
            <source>Enroll this PC</source>
            <translation>Enrôler ce PC</translation>
        </message>
        <message>
            <source>About Hotdesk</source>
            <translation>À propos de Hotdesk</translation>
        </message>
        <message>
            <source>Hotdesk %1
Re-authentication with your phone for shared PCs.</source>
            <translation>Hotdesk %1
Réauthentification avec votre téléphone pour les PC partagés.</translation>
        </message>
        <message>
            <source>The new policy has errors; the previous one stays in force. Run 'hotdesk policy check %1'.</source>
            <translation>La nouvelle stratégie contient des erreurs ; la précédente reste en vigueur. Exécutez « hotdesk policy check %1 ».</translation>
        </message>
        <message>
            <source>policy rejected: %1</source>
            <translation>stratégie refusée : %1</translation>
        </message>
        <message>
            <source>screen lock events from: %1</source>
            <translation>événements de verrouillage de l’écran depuis : %1</translation>
        </message>
        <message>
            <source>idle time unavailable: %1</source>
            <translation>durée d’inactivité indisponible : %1</translation>
        </message>
        <message numerus="yes">
            <source>screens locked (%n screen(s))</source>
            <translation>
                <numerusform>écrans verrouillés (%n écran)</numerusform>
                <numerusform>écrans verrouillés (%n écrans)</numerusform>
            </translation>
        </message>
        <message>
            <source>This PC must be approved by an administrator (request %1). Waiting…</source>
            <translation>Ce PC doit être approuvé par un administrateur (demande %1). En attente…</translation>
        </message>
        <message>
            <source>signing in %1</source>
            <translation>connexion de %1</translation>
        </message>
        <message>
            <source>the administrator was told: %1</source>
            <translation>l’administrateur a été prévenu : %1</translation>
        </message>
        <message>
            <source>screenshot of the lock screen: %1</source>
            <translation>capture de l’écran de verrouillage : %1</translation>
        </message>
        <message>
            <source>Sign in with your organisation's account. The screens unlock by themselves when you are done.</source>
            <translation>Connectez-vous avec le compte de votre organisation. Les écrans se déverrouillent d’eux-mêmes une fois terminé.</translation>
        </message>
        <message>
            <source>lock screen visible</source>
            <translation>écran de verrouillage visible</translation>
        </message>
        <message numerus="yes">
            <source>Type the %1-character code that was sent to you (valid until %2, %n attempt(s) left):</source>
            <translation>
                <numerusform>Saisissez le code de %1 caractères qui vous a été envoyé (valable jusqu’à %2, %n essai restant) :</numerusform>
                <numerusform>Saisissez le code de %1 caractères qui vous a été envoyé (valable jusqu’à %2, %n essais restants) :</numerusform>
            </translation>
        </message>
        <message>
            <source>This PC is not recognized. A one-time code was sent to you by e-mail; type it below.</source>
            <translation>Ce PC n’est pas reconnu. Un code à usage unique vous a été envoyé par e-mail ; saisissez-le ci-dessous.</translation>
        </message>
        <message>
            <source>waiting for the one-time code sent to %1</source>
            <translation>attente du code à usage unique envoyé à %1</translation>
        </message>
        <message>
            <source>asking the identity provider for: %1</source>
            <translation>demande au fournisseur d’identité : %1</translation>
        </message>
        <message>
            <source>this PC is enrolled as %1 with %2</source>
            <translation>ce PC est enrôlé comme %1 auprès de %2</translation>
        </message>
        <message>
            <source>This PC is enrolled</source>
            <translation>Ce PC est enrôlé</translation>
        </message>
        <message>
            <source>%1 enrolled this PC with %2. Sign-ins now work on it.</source>
            <translation>%1 a enrôlé ce PC auprès de %2. Les connexions y fonctionnent désormais.</translation>
        </message>
        <message>
            <source>enrolling this PC failed: %1 (%2)</source>
            <translation>l’enrôlement de ce PC a échoué : %1 (%2)</translation>
        </message>
        <message>
            <source>This PC was not enrolled.

%1

Ask your Hotdesk administrator if this goes on.</source>
            <translation>Ce PC n’a pas été enrôlé.

%1

Adressez-vous à votre administrateur Hotdesk si cela persiste.</translation>
        </message>
        <message>
            <source>not attached to hotdeskd: %1</source>
            <translation>non relié à hotdeskd : %1</translation>
        </message>
        <message>
            <source>the login screen of %1 is open</source>
            <translation>l’écran de connexion de %1 est ouvert</translation>
        </message>
        <message>
            <source>The login screen is open for another person; this session stays locked.</source>
            <translation>L’écran de connexion est ouvert pour une autre personne ; cette session reste verrouillée.</translation>
        </message>
        <message>
            <source>no login screen: %1</source>
            <translation>pas d’écran de connexion : %1</translation>
        </message>
        <message>
            <source>No login screen could be opened here. Ask the help desk, or sign in as %1.</source>
            <translation>Aucun écran de connexion n’a pu être ouvert ici. Adressez-vous au support ou connectez-vous en tant que %1.</translation>
        </message>
        <message>
            <source>lock screen holds the keyboard and the pointer</source>
            <translation>l'écran de verrouillage tient le clavier et le pointeur</translation>
        </message>
        <message>
            <source>lock screen raised again (%1)</source>
            <translation>écran de verrouillage remis au premier plan (%1)</translation>
        </message>
        <message>
            <source>the OS lock locked the session</source>
            <translation>le verrouillage du système a verrouillé la session</translation>
        </message>
        <message>
            <source>the OS lock failed: %1</source>
            <translation>le verrouillage du système a échoué : %1</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::cli::TrayEnrollment</name>
        <message>
            <source>Enroll this PC</source>
            <translation>Enrôler ce PC</translation>
        </message>
        <message>
            <source>An administrator enrolls this PC with the device authentication server: sign in with your phone as you always do.

Administrator's user name:</source>
            <translation>Un administrateur enrôle ce PC auprès du serveur d’authentification des appareils : connectez-vous avec votre téléphone, comme d’habitude.

Nom d’utilisateur de l’administrateur :</translation>
        </message>
        <message>
            <source>&amp;Sign in</source>
            <translation>&amp;Se connecter</translation>
        </message>
        <message>
            <source>%1 signs in to enroll this PC</source>
            <translation>%1 se connecte pour enrôler ce PC</translation>
        </message>
        <message>
            <source>This PC is enrolled by an administrator with root rights: sudo hotdesk enroll (see hotdesk enroll --help).</source>
            <translation>Ce PC est inscrit par un administrateur disposant des droits root : sudo hotdesk enroll (voir hotdesk enroll --help).</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::flow::ReauthFlow</name>
        <message>
            <source>No user name was given.</source>
            <translation>Aucun nom d’utilisateur n’a été indiqué.</translation>
        </message>
        <message>
            <source>no device fingerprint</source>
            <translation>pas d’empreinte de l’appareil</translation>
        </message>
        <message>
            <source>Sign-in was cancelled.</source>
            <translation>La connexion a été annulée.</translation>
        </message>
        <message>
            <source>Contacting the identity provider…</source>
            <translation>Connexion au fournisseur d’identité…</translation>
        </message>
        <message>
            <source>Registering %1 on this PC…</source>
            <translation>Enregistrement de %1 sur ce PC…</translation>
        </message>
        <message>
            <source>Asking the device authentication server for a sign-in request…</source>
            <translation>Demande d’une requête de connexion au serveur d’authentification des appareils…</translation>
        </message>
        <message>
            <source>no random numbers for the sign-in request</source>
            <translation>pas de nombres aléatoires pour la requête de connexion</translation>
        </message>
        <message>
            <source>The device authentication server signed a request for client "%1", but the policy names "%2".</source>
            <translation>Le serveur d’authentification des appareils a signé une requête pour le client « %1 », mais la stratégie indique « %2 ».</translation>
        </message>
        <message>
            <source>This PC is not recognized. Asking an administrator to approve it…</source>
            <translation>Ce PC n’est pas reconnu. Un administrateur est invité à l’approuver…</translation>
        </message>
        <message>
            <source>No administrator approved this PC in time. Ask your administrator, then try again.</source>
            <translation>Aucun administrateur n’a approuvé ce PC à temps. Contactez votre administrateur, puis réessayez.</translation>
        </message>
        <message>
            <source>The approval request for this PC was %1. Ask your administrator.</source>
            <translation>La demande d’approbation de ce PC a reçu la réponse « %1 ». Contactez votre administrateur.</translation>
        </message>
        <message>
            <source>This PC is not recognized. Sending you a one-time code…</source>
            <translation>Ce PC n’est pas reconnu. Envoi d’un code à usage unique…</translation>
        </message>
        <message>
            <source>No one-time code was entered in time. Try again.</source>
            <translation>Aucun code à usage unique n’a été saisi à temps. Réessayez.</translation>
        </message>
        <message>
            <source>A one-time code was sent to you by another way (e-mail). Enter it to register this PC.</source>
            <translation>Un code à usage unique vous a été envoyé par un autre moyen (e-mail). Saisissez-le pour enregistrer ce PC.</translation>
        </message>
        <message>
            <source>That code is not right. Check it and enter it again.</source>
            <translation>Ce code est incorrect. Vérifiez-le et saisissez-le à nouveau.</translation>
        </message>
        <message>
            <source>Approve the sign-in on your phone.</source>
            <translation>Approuvez la connexion sur votre téléphone.</translation>
        </message>
        <message>
            <source>The sign-in was not completed in time. Try again, and approve on your phone when asked.</source>
            <translation>La connexion n’a pas été terminée à temps. Réessayez et approuvez sur votre téléphone lorsque cela vous est demandé.</translation>
        </message>
        <message>
            <source>Completing the sign-in…</source>
            <translation>Finalisation de la connexion…</translation>
        </message>
        <message>
            <source>Checking the identity provider's answer…</source>
            <translation>Vérification de la réponse du fournisseur d’identité…</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::AuthBrowserDialog</name>
        <message>
            <source>Sign in – Hotdesk</source>
            <translation>Connexion – Hotdesk</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::AuthBrowserWidget</name>
        <message>
            <source>Sign-in status</source>
            <translation>État de la connexion</translation>
        </message>
        <message>
            <source>Loading the sign-in page</source>
            <translation>Chargement de la page de connexion</translation>
        </message>
        <message>
            <source>What went wrong</source>
            <translation>Ce qui n’a pas fonctionné</translation>
        </message>
        <message>
            <source>&amp;Retry</source>
            <translation>&amp;Réessayer</translation>
        </message>
        <message>
            <source>Retry</source>
            <translation>Réessayer</translation>
        </message>
        <message>
            <source>Load the sign-in page again</source>
            <translation>Recharger la page de connexion</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>Annuler</translation>
        </message>
        <message>
            <source>Cancel sign-in</source>
            <translation>Annuler la connexion</translation>
        </message>
        <message>
            <source>Stop signing in and close the sign-in page</source>
            <translation>Arrêter la connexion et fermer la page de connexion</translation>
        </message>
        <message>
            <source>Sign-in page</source>
            <translation>Page de connexion</translation>
        </message>
        <message>
            <source>Connecting to sign-in page…</source>
            <translation>Connexion à la page de connexion…</translation>
        </message>
        <message>
            <source>Sign-in cancelled.</source>
            <translation>Connexion annulée.</translation>
        </message>
        <message>
            <source>Returning to Hotdesk…</source>
            <translation>Retour à Hotdesk…</translation>
        </message>
        <message>
            <source>%1 opens in your web browser; this window only shows the sign-in page.</source>
            <translation>%1 s’ouvre dans votre navigateur web ; cette fenêtre n’affiche que la page de connexion.</translation>
        </message>
        <message>
            <source>The identity provider sent this window to %1, outside %2. Only the identity provider's own pages open here. Tell your administrator.</source>
            <translation>Le fournisseur d’identité a envoyé cette fenêtre vers %1, en dehors de %2. Seules les pages du fournisseur d’identité s’ouvrent ici. Prévenez votre administrateur.</translation>
        </message>
        <message>
            <source>This window only shows the identity provider's pages; %1 was not opened.</source>
            <translation>Cette fenêtre n’affiche que les pages du fournisseur d’identité ; %1 n’a pas été ouvert.</translation>
        </message>
        <message>
            <source>The sign-in page at %1 could not prove its identity (%2), so it was not opened. Tell your administrator: the identity provider's certificate, or the CA bundle of the Hotdesk policy, needs fixing.</source>
            <translation>La page de connexion %1 n’a pas pu prouver son identité (%2) ; elle n’a donc pas été ouverte. Prévenez votre administrateur : le certificat du fournisseur d’identité ou le paquet d’autorités de la stratégie Hotdesk doit être corrigé.</translation>
        </message>
        <message>
            <source>Sign in with your organisation's account. This window closes by itself when you are done.</source>
            <translation>Connectez-vous avec le compte de votre organisation. Cette fenêtre se ferme d’elle-même une fois terminé.</translation>
        </message>
        <message>
            <source>The sign-in page at %1 answered with an error (%2). Choose Retry; if it keeps failing, tell your administrator.</source>
            <translation>La page de connexion %1 a répondu par une erreur (%2). Choisissez Réessayer ; si l’échec persiste, prévenez votre administrateur.</translation>
        </message>
        <message>
            <source>The sign-in page at %1 cannot be reached (%2). Check that this PC is connected to the network, then choose Retry. If it keeps failing, tell your administrator.</source>
            <translation>La page de connexion %1 est injoignable (%2). Vérifiez que ce PC est connecté au réseau, puis choisissez Réessayer. Si l’échec persiste, prévenez votre administrateur.</translation>
        </message>
        <message numerus="yes">
            <source>The sign-in page at %1 did not load within %n second(s). Check the network connection, then choose Retry. If it keeps happening, tell your administrator.</source>
            <translation>
                <numerusform>La page de connexion %1 ne s’est pas chargée en %n seconde. Vérifiez la connexion réseau, puis choisissez Réessayer. Si cela se reproduit, prévenez votre administrateur.</numerusform>
                <numerusform>La page de connexion %1 ne s’est pas chargée en %n secondes. Vérifiez la connexion réseau, puis choisissez Réessayer. Si cela se reproduit, prévenez votre administrateur.</numerusform>
            </translation>
        </message>
        <message>
            <source>The sign-in page did not open.</source>
            <translation>La page de connexion ne s’est pas ouverte.</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::DesktopIntegration</name>
        <message>
            <source>Hotdesk is protecting this PC</source>
            <translation>Hotdesk protège ce PC</translation>
        </message>
        <message>
            <source>Signed in as %1</source>
            <translation>Connecté en tant que %1</translation>
        </message>
        <message>
            <source>Re-authentication due soon</source>
            <translation>Nouvelle authentification bientôt requise</translation>
        </message>
        <message>
            <source>%1 must re-authenticate soon</source>
            <translation>%1 doit bientôt s’authentifier à nouveau</translation>
        </message>
        <message>
            <source>Locked until someone signs in again</source>
            <translation>Verrouillé jusqu’à ce que quelqu’un se reconnecte</translation>
        </message>
        <message>
            <source>Locked until %1 signs in again</source>
            <translation>Verrouillé jusqu’à ce que %1 se reconnecte</translation>
        </message>
        <message>
            <source>Offline: the authentication server cannot be reached</source>
            <translation>Hors ligne : le serveur d’authentification est injoignable</translation>
        </message>
        <message>
            <source>Hotdesk has a problem; see the audit log</source>
            <translation>Hotdesk a un problème ; consultez le journal d’audit</translation>
        </message>
        <message>
            <source>Hotdesk: %1</source>
            <translation>Hotdesk : %1</translation>
        </message>
        <message>
            <source>Hotdesk: %1
%2</source>
            <translation>Hotdesk : %1
%2</translation>
        </message>
        <message>
            <source>Re-authenticate now</source>
            <translation>S’authentifier à nouveau maintenant</translation>
        </message>
        <message>
            <source>Enroll this PC…</source>
            <translation>Enregistrer ce PC…</translation>
        </message>
        <message>
            <source>Open audit log</source>
            <translation>Ouvrir le journal d’audit</translation>
        </message>
        <message>
            <source>About Hotdesk</source>
            <translation>À propos de Hotdesk</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::LockScreen</name>
        <message>
            <source>Sign-in was cancelled.</source>
            <translation>La connexion a été annulée.</translation>
        </message>
        <message>
            <source>Sign-in was cancelled. Select Sign in to try again.</source>
            <translation>La connexion a été annulée. Choisissez Se connecter pour réessayer.</translation>
        </message>
        <message>
            <source>The sign-in service could not be reached.</source>
            <translation>Le service d’authentification est injoignable.</translation>
        </message>
        <message>
            <source>The sign-in service could not be reached. Check the network cable or Wi-Fi, then select Sign in.</source>
            <translation>Le service d’authentification est injoignable. Vérifiez le câble réseau ou le Wi-Fi, puis choisissez Se connecter.</translation>
        </message>
        <message>
            <source>The connection to the sign-in service is not trusted.</source>
            <translation>La connexion au service d’authentification n’est pas sûre.</translation>
        </message>
        <message>
            <source>The connection to the sign-in service is not trusted. Check the network cable or Wi-Fi, then select Sign in.</source>
            <translation>La connexion au service d’authentification n’est pas sûre. Vérifiez le câble réseau ou le Wi-Fi, puis choisissez Se connecter.</translation>
        </message>
        <message>
            <source>The sign-in service reported an error.</source>
            <translation>Le service d’authentification a signalé une erreur.</translation>
        </message>
        <message>
            <source>The sign-in service reported an error. Check the network cable or Wi-Fi, then select Sign in.</source>
            <translation>Le service d’authentification a signalé une erreur. Vérifiez le câble réseau ou le Wi-Fi, puis choisissez Se connecter.</translation>
        </message>
        <message>
            <source>The sign-in was refused.</source>
            <translation>La connexion a été refusée.</translation>
        </message>
        <message>
            <source>The sign-in was refused. Select Sign in to try again.</source>
            <translation>La connexion a été refusée. Choisissez Se connecter pour réessayer.</translation>
        </message>
        <message>
            <source>The sign-in service does not recognize this PC.</source>
            <translation>Le service d’authentification ne reconnaît pas ce PC.</translation>
        </message>
        <message>
            <source>The sign-in service does not recognize this PC. Select Sign in to try again.</source>
            <translation>Le service d’authentification ne reconnaît pas ce PC. Choisissez Se connecter pour réessayer.</translation>
        </message>
        <message>
            <source>The sign-in service does not know this user.</source>
            <translation>Le service d’authentification ne connaît pas cet utilisateur.</translation>
        </message>
        <message>
            <source>The sign-in service does not know this user. Select Sign in to try again.</source>
            <translation>Le service d’authentification ne connaît pas cet utilisateur. Choisissez Se connecter pour réessayer.</translation>
        </message>
        <message>
            <source>The sign-in could not be completed. Select Sign in to try again.</source>
            <translation>La connexion n’a pas pu aboutir. Choisissez Se connecter pour réessayer.</translation>
        </message>
        <message>
            <source>The Hotdesk policy on this PC cannot be used for this sign-in (%1).</source>
            <translation>La stratégie Hotdesk de ce PC ne peut pas servir pour cette connexion (%1).</translation>
        </message>
        <message>
            <source>The Hotdesk policy on this PC cannot be used for this sign-in. Tell your administrator.</source>
            <translation>La stratégie Hotdesk de ce PC ne peut pas servir pour cette connexion. Prévenez votre administrateur.</translation>
        </message>
        <message>
            <source>The sign-in could not be completed (%1).</source>
            <translation>La connexion n’a pas pu aboutir (%1).</translation>
        </message>
    </context>
    <context>
        <name>hotdesk::ui::LockWindow</name>
        <message>
            <source>Hotdesk: this PC is locked</source>
            <translation>Hotdesk : ce PC est verrouillé</translation>
        </message>
        <message>
            <source>&amp;Sign in</source>
            <translation>&amp;Se connecter</translation>
        </message>
        <message>
            <source>Sign in again</source>
            <translation>Se reconnecter</translation>
        </message>
        <message>
            <source>&amp;Cancel</source>
            <translation>A&amp;nnuler</translation>
        </message>
        <message>
            <source>Cancel this sign-in attempt</source>
            <translation>Annuler cette tentative de connexion</translation>
        </message>
        <message>
            <source>User name</source>
            <translation>Nom d’utilisateur</translation>
        </message>
        <message>
            <source>User name of the person who wants to use this PC</source>
            <translation>Nom d’utilisateur de la personne qui souhaite utiliser ce PC</translation>
        </message>
        <message>
            <source>Co&amp;ntinue</source>
            <translation>&amp;Continuer</translation>
        </message>
        <message>
            <source>Continue as this user</source>
            <translation>Continuer avec cet utilisateur</translation>
        </message>
        <message>
            <source>Sign-in in progress</source>
            <translation>Connexion en cours</translation>
        </message>
        <message>
            <source>Sign-in page</source>
            <translation>Page de connexion</translation>
        </message>
        <message>
            <source>This PC is locked</source>
            <translation>Ce PC est verrouillé</translation>
        </message>
        <message>
            <source>Sign in on the main screen to continue.</source>
            <translation>Connectez-vous sur l’écran principal pour continuer.</translation>
        </message>
        <message>
            <source>%1, please sign in again</source>
            <translation>%1, veuillez vous reconnecter</translation>
        </message>
        <message>
            <source>Attempts left: %1</source>
            <translation>Tentatives restantes : %1</translation>
        </message>
        <message>
            <source>S&amp;witch user</source>
            <translation>Changer d’&amp;utilisateur</translation>
        </message>
        <message>
            <source>Not %1? S&amp;witch user</source>
            <translation>Vous n’êtes pas %1 ? Changer d’&amp;utilisateur</translation>
        </message>
        <message>
            <source>Sign in as another user</source>
            <translation>Se connecter avec un autre utilisateur</translation>
        </message>
        <message>
            <source>Unlock &amp;offline</source>
            <translation>Déverrouiller &amp;hors ligne</translation>
        </message>
        <message>
            <source>Unlock without the sign-in service, as the offline policy allows</source>
            <translation>Déverrouiller sans le service d’authentification, comme la stratégie hors ligne le permet</translation>
        </message>
        <message>
            <source>Type one of your recovery codes (it looks like 7K3M-Q9TD):</source>
            <translation>Saisissez l’un de vos codes de secours (il ressemble à 7K3M-Q9TD) :</translation>
        </message>
        <message>
            <source>Use a &amp;recovery code</source>
            <translation>Utiliser un code de secou&amp;rs</translation>
        </message>
        <message>
            <source>Unlock with one of your one-time recovery codes, for example when your phone is lost</source>
            <translation>Déverrouiller avec l’un de vos codes de secours à usage unique, par exemple si votre téléphone est perdu</translation>
        </message>
        <message>
            <source>Sub&amp;mit</source>
            <translation>&amp;Valider</translation>
        </message>
        <message>
            <source>Submit the code</source>
            <translation>Valider le code</translation>
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
            <translation>Seule une application graphique peut lire le temps d’inactivité du serveur X ; ce programme n’en est pas une.</translation>
        </message>
        <message>
            <source>The connection to the X server is broken, so its idle time cannot be read.</source>
            <translation>La connexion au serveur X est rompue, son temps d’inactivité ne peut donc pas être lu.</translation>
        </message>
        <message>
            <source>The X server's idle time can be read only when the agent runs on X11; it runs on the "%1" platform.</source>
            <translation>Le temps d’inactivité du serveur X ne peut être lu que lorsque l’agent fonctionne sous X11 ; il fonctionne sur la plateforme « %1 ».</translation>
        </message>
        <message>
            <source>This is a Wayland session: its X server (Xwayland) sees only the input of X11 programs, so its idle time is not used. The idle trigger needs a Wayland desktop that tells the idle time over D-Bus, such as GNOME or KDE Plasma.</source>
            <translation>Ceci est une session Wayland : son serveur X (Xwayland) ne voit que les saisies des programmes X11, son temps d’inactivité n’est donc pas utilisé. Le déclencheur d’inactivité nécessite un bureau Wayland qui communique le temps d’inactivité via D-Bus, comme GNOME ou KDE Plasma.</translation>
        </message>
        <message>
            <source>The X server does not offer the MIT-SCREEN-SAVER extension, so its idle time cannot be read.</source>
            <translation>Le serveur X ne propose pas l’extension MIT-SCREEN-SAVER, son temps d’inactivité ne peut donc pas être lu.</translation>
        </message>
        <message>
            <source>The X server refused to tell its idle time (X error %1).</source>
            <translation>Le serveur X a refusé de donner son temps d’inactivité (erreur X %1).</translation>
        </message>
    </context>
</TS>
