// SPAKE2: the RFC 9382 Appendix B vectors step by step, full exchanges, and every refusal.
#include "core/pake/spake2.h"

#include "testdata.h"

#include <QList>
#include <QTest>

#include <optional>

using hotdesk::ErrorCode;
using hotdesk::RandomSource;
using hotdesk::Result;
using hotdesk::test::fromHex;
using namespace hotdesk::pake;

namespace {

// Hands out queued byte strings in order, so a test chooses the "random" scalar.
class ScriptedRandom final : public RandomSource {
public:
    explicit ScriptedRandom(QList<QByteArray> script)
        : m_script(std::move(script))
    {
    }

    Result<QByteArray> bytes(qsizetype) override
    {
        ++m_calls;
        if (m_script.isEmpty())
            return hotdesk::fail(ErrorCode::CryptoFailure, QStringLiteral("the scripted random source ran dry"));
        return m_script.takeFirst();
    }

    int calls() const { return m_calls; }

private:
    QList<QByteArray> m_script;
    int m_calls = 0;
};

// Returns the same bytes forever, to show the sampler gives up instead of spinning.
class StuckRandom final : public RandomSource {
public:
    explicit StuckRandom(QByteArray value)
        : m_value(std::move(value))
    {
    }

    Result<QByteArray> bytes(qsizetype) override
    {
        ++m_calls;
        return m_value;
    }

    int calls() const { return m_calls; }

private:
    QByteArray m_value;
    int m_calls = 0;
};

// The P-256 group order (SEC 2), big-endian.
const QByteArray kOrder = fromHex(QStringLiteral("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"));
// RFC 9382 section 6 gives M and N compressed; these are the same points uncompressed.
const QByteArray kMCompressed = fromHex(QStringLiteral("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"));
const QByteArray kMUncompressed = fromHex(QStringLiteral(
    "04886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"
    "5ff355163e43ce224e0b0e65ff02ac8e5c7be09419c785e0ca547d55a12e2d20"));
const QByteArray kNUncompressed = fromHex(QStringLiteral(
    "04d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49"
    "07d60aa6bfade45008a636337f5168c64d9bd36034808cd564490b1e656edbe7"));

// Cheap scrypt for tests that only need two different w; the product keeps the default cost.
const PasswordHashCost kFastCost{1024, 8, 1};

QByteArray scalarOne()
{
    QByteArray one(kScalarSize, '\0');
    one[kScalarSize - 1] = 1;
    return one;
}

QByteArray withByte(QByteArray bytes, qsizetype index, char value)
{
    bytes[index] = value;
    return bytes;
}

QByteArray flipLastBit(QByteArray bytes)
{
    bytes[bytes.size() - 1] = char(bytes.at(bytes.size() - 1) ^ 1);
    return bytes;
}

QByteArray wFor(const QByteArray &password, const QByteArray &salt = QByteArrayLiteral("pairing-0001"))
{
    auto w = passwordScalar(password, salt, kFastCost);
    if (!w)
        qFatal("passwordScalar failed: %s", qPrintable(w.error().message));
    return *w;
}

Spake2 make(Role role, const QByteArray &w, const QByteArray &idA = QByteArrayLiteral("client"),
            const QByteArray &idB = QByteArrayLiteral("server"), const QByteArray &aad = {})
{
    auto party = Spake2::create(role, w, idA, idB, aad);
    if (!party)
        qFatal("Spake2::create failed: %s", qPrintable(party.error().message));
    return std::move(*party);
}

enum class Step { Start, Finish, Verify, SessionKey };
enum class Reached { Created, Started, Finished, Confirmed, Failed, MovedFrom };

} // namespace

Q_DECLARE_METATYPE(hotdesk::pake::Role)
Q_DECLARE_METATYPE(Step)
Q_DECLARE_METATYPE(Reached)

class TestSpake2 : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void rfcVectorBuildingBlocks_data();
    void rfcVectorBuildingBlocks();
    void rfcVectorExchange_data();
    void rfcVectorExchange();

    void samePasswordAgrees();
    void mismatchFailsConfirmation_data();
    void mismatchFailsConfirmation();
    void alteredConfirmationFails();
    void replacedMessageFailsConfirmation();

    void refusesInvalidPeerMessage_data();
    void refusesInvalidPeerMessage();

    void outOfOrderCallsAreErrors_data();
    void outOfOrderCallsAreErrors();

    void refusesInvalidScalar_data();
    void refusesInvalidScalar();
    void samplingRedrawsOutOfRangeCandidates();
    void samplingGivesUpOnAStuckSource();
    void randomFailureEndsTheExchange();

    void passwordScalarKnownAnswer();
    void passwordScalarSeparatesInputs();
    void passwordScalarRefusesBadInput_data();
    void passwordScalarRefusesBadInput();
};

// RFC 9382, Appendix B: SPAKE2-P256-SHA256-HKDF-HMAC, AAD empty.
void TestSpake2::rfcVectorExchange_data()
{
    QTest::addColumn<QByteArray>("idA");
    QTest::addColumn<QByteArray>("idB");
    QTest::addColumn<QByteArray>("w");
    QTest::addColumn<QByteArray>("x");
    QTest::addColumn<QByteArray>("y");
    QTest::addColumn<QByteArray>("pA");
    QTest::addColumn<QByteArray>("pB");
    QTest::addColumn<QByteArray>("k");
    QTest::addColumn<QByteArray>("tt");
    QTest::addColumn<QByteArray>("ke");
    QTest::addColumn<QByteArray>("ka");
    QTest::addColumn<QByteArray>("kcA");
    QTest::addColumn<QByteArray>("kcB");
    QTest::addColumn<QByteArray>("macA");
    QTest::addColumn<QByteArray>("macB");

    const auto h = [](const char *hex) { return fromHex(QLatin1String(hex)); };

    QTest::newRow("A='server', B='client'")
        << QByteArrayLiteral("server") << QByteArrayLiteral("client")
        << h("2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f")
        << h("43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729")
        << h("dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be")
        << h("04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9"
             "010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c")
        << h("0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d0"
             "9857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7")
        << h("0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69"
             "f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325")
        << h("06000000000000007365727665720600000000000000636c69656e7441000000"
             "0000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a87984"
             "34751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb411698"
             "8ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d9"
             "51e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a115"
             "5cf8f1543ceca528afb591a1e0b741000000000000000412af7e897178506719"
             "13e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2"
             "fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002e"
             "e57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f")
        << h("0e0672dc86f8e45565d338b0540abe69") << h("15bdf72e2b35b5c9e5663168e960a91b")
        << h("00c12546835755c86d8c0db7851ae86f") << h("a9fa3406c3b781b93d804485430ca27a")
        << h("58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0")
        << h("d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b");

    QTest::newRow("A='', B='client'")
        << QByteArray() << QByteArrayLiteral("client")
        << h("0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae")
        << h("403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b")
        << h("903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065")
        << h("04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44"
             "fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a")
        << h("04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b"
             "881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc")
        << h("048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebd"
             "a82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6")
        << h("00000000000000000600000000000000636c69656e74410000000000000004a8"
             "97b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb"
             "92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a41"
             "0000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e"
             "0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f6960480"
             "50ca66ca5f8cc7fc4100000000000000048f83ec9f6e4f87cc6f9dc740bdc276"
             "9725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cf"
             "f5361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f7305"
             "89e579b0475a582c1608138ddf7054b73b5381c7e883e2efae")
        << h("642f05c473c2cd79909f9a841e2f30a7") << h("0bf89b18180af97353ba198789c2b963")
        << h("c6be376fc7cd1301fd0a13adf3e7bffd") << h("b7243f4ae60440a49b3f8cab3c1fba07")
        << h("47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b")
        << h("3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df");

    QTest::newRow("A='server', B=''")
        << QByteArrayLiteral("server") << QByteArray()
        << h("626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254")
        << h("07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633")
        << h("b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16")
        << h("04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e1"
             "5a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0")
        << h("040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7"
             "cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db")
        << h("0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3"
             "ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe")
        << h("06000000000000007365727665720000000000000000410000000000000004f8"
             "8fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a"
             "873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b041"
             "00000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4"
             "bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39b"
             "a0f31a9661bd34db41000000000000000445ee233b8ecb51ebd6e7da3f307e88"
             "a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9"
             "b844bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9"
             "db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254")
        << h("005184ff460da2ce59062c87733c299c") << h("3521297d736598fc0a1127600efa1afb")
        << h("f3da53604f0aeecea5a33be7bddf6edf") << h("9e3f86848736f159bd92b6e107ec6799")
        << h("bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2")
        << h("c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec");

    QTest::newRow("A='', B=''")
        << QByteArray() << QByteArray()
        << h("7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca")
        << h("8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473")
        << h("d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53")
        << h("04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46c"
             "a1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66")
        << h("04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc049466"
             "2eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d")
        << h("041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a9"
             "94b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772")
        << h("00000000000000000000000000000000410000000000000004a65b367a3f613c"
             "f9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a67659888"
             "9fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d6641000000000000"
             "0004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc04"
             "94662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6"
             "f58d4100000000000000041a3c03d51b452537ca2a1fea6110353c6d5ed483c4"
             "f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee9"
             "7986ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896"
             "508afd5fc62ef4ec59db1efb49113063d70cca")
        << h("fc6374762ba5cf11f4b2caa08b2cd1b9") << h("907ae0e26e8d6234318d91583cd74c86")
        << h("5dbd2f477166b7fb6d61febbd77a5563") << h("7689b4654407a5faeffdc8f18359d8a3")
        << h("dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca")
        << h("d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175");
}

void TestSpake2::rfcVectorBuildingBlocks_data()
{
    rfcVectorExchange_data();
}

// Every intermediate value of each vector, one building block at a time.
void TestSpake2::rfcVectorBuildingBlocks()
{
    QFETCH(QByteArray, idA);
    QFETCH(QByteArray, idB);
    QFETCH(QByteArray, w);
    QFETCH(QByteArray, x);
    QFETCH(QByteArray, y);
    QFETCH(QByteArray, pA);
    QFETCH(QByteArray, pB);
    QFETCH(QByteArray, k);
    QFETCH(QByteArray, tt);
    QFETCH(QByteArray, ke);
    QFETCH(QByteArray, ka);
    QFETCH(QByteArray, kcA);
    QFETCH(QByteArray, kcB);
    QFETCH(QByteArray, macA);
    QFETCH(QByteArray, macB);

    const auto messageA = computeMessage(Role::A, w, x);
    QVERIFY2(messageA, qPrintable(messageA ? QString() : messageA.error().message));
    QCOMPARE(messageA->toHex(), pA.toHex());
    const auto messageB = computeMessage(Role::B, w, y);
    QVERIFY(messageB);
    QCOMPARE(messageB->toHex(), pB.toHex());

    const auto kOfA = computeSharedElement(Role::A, w, x, pB);
    QVERIFY2(kOfA, qPrintable(kOfA ? QString() : kOfA.error().message));
    QCOMPARE(kOfA->toHex(), k.toHex());
    const auto kOfB = computeSharedElement(Role::B, w, y, pA);
    QVERIFY(kOfB);
    QCOMPARE(kOfB->toHex(), k.toHex());

    QCOMPARE(encodeTranscript(idA, idB, pA, pB, k, w).toHex(), tt.toHex());

    const auto keys = deriveKeySchedule(tt, {});
    QVERIFY(keys);
    QCOMPARE(keys->ke.toHex(), ke.toHex());
    QCOMPARE(keys->ka.toHex(), ka.toHex());
    QCOMPARE(keys->kcA.toHex(), kcA.toHex());
    QCOMPARE(keys->kcB.toHex(), kcB.toHex());
    QCOMPARE(keys->macA.toHex(), macA.toHex());
    QCOMPARE(keys->macB.toHex(), macB.toHex());
}

// The same vectors through two Spake2 objects, x and y coming from their random sources.
void TestSpake2::rfcVectorExchange()
{
    QFETCH(QByteArray, idA);
    QFETCH(QByteArray, idB);
    QFETCH(QByteArray, w);
    QFETCH(QByteArray, x);
    QFETCH(QByteArray, y);
    QFETCH(QByteArray, pA);
    QFETCH(QByteArray, pB);
    QFETCH(QByteArray, ke);
    QFETCH(QByteArray, macA);
    QFETCH(QByteArray, macB);

    Spake2 a = make(Role::A, w, idA, idB);
    Spake2 b = make(Role::B, w, idA, idB);
    ScriptedRandom randomA({x});
    ScriptedRandom randomB({y});

    const auto sentA = a.start(randomA);
    QVERIFY(sentA);
    QCOMPARE(sentA->toHex(), pA.toHex());
    const auto sentB = b.start(randomB);
    QVERIFY(sentB);
    QCOMPARE(sentB->toHex(), pB.toHex());

    const auto confirmA = a.finish(*sentB);
    QVERIFY(confirmA);
    QCOMPARE(confirmA->toHex(), macA.toHex());
    const auto confirmB = b.finish(*sentA);
    QVERIFY(confirmB);
    QCOMPARE(confirmB->toHex(), macB.toHex());

    QVERIFY(b.verifyPeerConfirmation(*confirmA));
    QVERIFY(a.verifyPeerConfirmation(*confirmB));
    const auto keyA = a.sessionKey();
    const auto keyB = b.sessionKey();
    QVERIFY(keyA && keyB);
    QCOMPARE(keyA->toHex(), ke.toHex());
    QCOMPARE(keyB->toHex(), ke.toHex());
}

void TestSpake2::samePasswordAgrees()
{
    // The product cost, once, so the default parameters are known to work.
    const auto w = passwordScalar(QByteArrayLiteral("7391-0482"), QByteArrayLiteral("pairing-0001"));
    QVERIFY(w);
    const QByteArray aad = QByteArrayLiteral("hotdesk pairing v1");
    Spake2 a = make(Role::A, *w, QByteArrayLiteral("client"), QByteArrayLiteral("server"), aad);
    Spake2 b = make(Role::B, *w, QByteArrayLiteral("client"), QByteArrayLiteral("server"), aad);
    hotdesk::OpenSslRandom random;

    const auto pA = a.start(random);
    const auto pB = b.start(random);
    QVERIFY(pA && pB);
    QCOMPARE(pA->size(), kMessageSize);
    QVERIFY(*pA != *pB);
    const auto macA = a.finish(*pB);
    const auto macB = b.finish(*pA);
    QVERIFY(macA && macB);
    QVERIFY(*macA != *macB);

    QVERIFY(a.verifyPeerConfirmation(*macB));
    QVERIFY(b.verifyPeerConfirmation(*macA));
    QCOMPARE(a.state(), Spake2::State::Confirmed);
    QCOMPARE(b.state(), Spake2::State::Confirmed);
    const auto keyA = a.sessionKey();
    const auto keyB = b.sessionKey();
    QVERIFY(keyA && keyB);
    QCOMPARE(keyA->size(), kKeySize);
    QCOMPARE(*keyA, *keyB);
}

// Anything the two sides disagree on must surface as a failed confirmation, on both sides.
void TestSpake2::mismatchFailsConfirmation_data()
{
    QTest::addColumn<QByteArray>("wA");
    QTest::addColumn<QByteArray>("wB");
    QTest::addColumn<QByteArray>("idAOfB"); // B's idea of A's identity
    QTest::addColumn<QByteArray>("aadOfB");

    const QByteArray right = wFor(QByteArrayLiteral("7391-0482"));
    QTest::newRow("different password") << right << wFor(QByteArrayLiteral("7391-0483")) << QByteArrayLiteral("client") << QByteArray();
    QTest::newRow("different salt") << right << wFor(QByteArrayLiteral("7391-0482"), QByteArrayLiteral("pairing-0002"))
                                    << QByteArrayLiteral("client") << QByteArray();
    QTest::newRow("different identity") << right << right << QByteArrayLiteral("intruder") << QByteArray();
    QTest::newRow("different aad") << right << right << QByteArrayLiteral("client") << QByteArrayLiteral("v2");
}

void TestSpake2::mismatchFailsConfirmation()
{
    QFETCH(QByteArray, wA);
    QFETCH(QByteArray, wB);
    QFETCH(QByteArray, idAOfB);
    QFETCH(QByteArray, aadOfB);

    Spake2 a = make(Role::A, wA);
    Spake2 b = make(Role::B, wB, idAOfB, QByteArrayLiteral("server"), aadOfB);
    hotdesk::OpenSslRandom random;
    const auto pA = a.start(random);
    const auto pB = b.start(random);
    QVERIFY(pA && pB);
    // Neither side can tell yet: a wrong password still yields well-formed messages.
    const auto macA = a.finish(*pB);
    const auto macB = b.finish(*pA);
    QVERIFY(macA && macB);

    const auto checkedByA = a.verifyPeerConfirmation(*macB);
    QVERIFY(!checkedByA);
    QCOMPARE(checkedByA.error().code, ErrorCode::ConfirmationFailed);
    QVERIFY(!checkedByA.error().message.isEmpty());
    const auto checkedByB = b.verifyPeerConfirmation(*macA);
    QVERIFY(!checkedByB);
    QCOMPARE(checkedByB.error().code, ErrorCode::ConfirmationFailed);

    QCOMPARE(a.state(), Spake2::State::Failed);
    QCOMPARE(b.state(), Spake2::State::Failed);
    QVERIFY(!a.sessionKey());
    QVERIFY(!b.sessionKey());
    // A failed exchange stays failed: the right MAC afterwards does not revive it.
    QCOMPARE(a.verifyPeerConfirmation(*macB).error().code, ErrorCode::Unsupported);
}

void TestSpake2::alteredConfirmationFails()
{
    const QByteArray w = wFor(QByteArrayLiteral("7391-0482"));
    Spake2 a = make(Role::A, w);
    Spake2 b = make(Role::B, w);
    hotdesk::OpenSslRandom random;
    const auto pA = a.start(random);
    const auto pB = b.start(random);
    const auto macB = b.finish(*pA);
    QVERIFY(a.finish(*pB) && macB);

    const auto checked = a.verifyPeerConfirmation(flipLastBit(*macB));
    QVERIFY(!checked);
    QCOMPARE(checked.error().code, ErrorCode::ConfirmationFailed);

    Spake2 a2 = make(Role::A, w);
    Spake2 b2 = make(Role::B, w);
    const auto pA2 = a2.start(random);
    const auto pB2 = b2.start(random);
    const auto macB2 = b2.finish(*pA2);
    QVERIFY(a2.finish(*pB2) && macB2);
    const auto truncated = a2.verifyPeerConfirmation(macB2->left(16));
    QVERIFY(!truncated);
    QCOMPARE(truncated.error().code, ErrorCode::Malformed);
    QCOMPARE(a2.state(), Spake2::State::Failed);
}

// An attacker in the middle who swaps B's message for a valid point of its own
// (without the password) gets past finish() but not past confirmation.
void TestSpake2::replacedMessageFailsConfirmation()
{
    const QByteArray w = wFor(QByteArrayLiteral("7391-0482"));
    Spake2 a = make(Role::A, w);
    Spake2 b = make(Role::B, w);
    hotdesk::OpenSslRandom random;
    const auto pA = a.start(random);
    QVERIFY(pA && b.start(random));
    const auto forged = computeMessage(Role::B, wFor(QByteArrayLiteral("0000-0000")), scalarOne());
    QVERIFY(forged);
    QVERIFY(a.finish(*forged));
    const auto macB = b.finish(*pA);
    QVERIFY(macB);
    QCOMPARE(a.verifyPeerConfirmation(*macB).error().code, ErrorCode::ConfirmationFailed);
}

void TestSpake2::refusesInvalidPeerMessage_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<QByteArray>("w");
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QString>("because"); // a word the error message must contain

    const QByteArray w = wFor(QByteArrayLiteral("7391-0482"));
    const auto valid = computeMessage(Role::B, w, scalarOne());
    if (!valid)
        qFatal("cannot build a valid message");
    const QByteArray point = *valid;
    const QString length = QStringLiteral("65 bytes");
    const QString form = QStringLiteral("uncompressed");
    const QString curve = QStringLiteral("not a point");
    const QString identity = QStringLiteral("identity");

    QTest::newRow("empty") << Role::A << w << QByteArray() << length;
    QTest::newRow("encoded point at infinity") << Role::A << w << QByteArray(1, '\0') << length;
    QTest::newRow("truncated") << Role::A << w << point.left(64) << length;
    QTest::newRow("trailing byte") << Role::A << w << (point + '\0') << length;
    QTest::newRow("twice") << Role::A << w << (point + point) << length;
    QTest::newRow("compressed point") << Role::A << w << kMCompressed << length;
    QTest::newRow("text") << Role::A << w << QByteArrayLiteral("this is not a SPAKE2 message") << length;
    QTest::newRow("65 bytes of text") << Role::A << w << QByteArray(kMessageSize, 'A') << form;
    QTest::newRow("65 zero bytes") << Role::A << w << QByteArray(kMessageSize, '\0') << form;
    QTest::newRow("hybrid form 0x06") << Role::A << w << withByte(point, 0, '\x06') << form;
    QTest::newRow("hybrid form 0x07") << Role::A << w << withByte(point, 0, '\x07') << form;
    QTest::newRow("off the curve") << Role::A << w << flipLastBit(point) << curve;
    QTest::newRow("origin") << Role::A << w << (QByteArray(1, '\x04') + QByteArray(64, '\0')) << curve;
    QTest::newRow("coordinates above the field prime") << Role::A << w << (QByteArray(1, '\x04') + QByteArray(64, '\xff')) << curve;
    QTest::newRow("off the curve, to B") << Role::B << w << flipLastBit(point) << curve;
    // With w = 1 the mask is N itself (for A) or M itself (for B).
    QTest::newRow("unmasks to identity at A") << Role::A << scalarOne() << kNUncompressed << identity;
    QTest::newRow("unmasks to identity at B") << Role::B << scalarOne() << kMUncompressed << identity;
}

void TestSpake2::refusesInvalidPeerMessage()
{
    QFETCH(Role, role);
    QFETCH(QByteArray, w);
    QFETCH(QByteArray, message);
    QFETCH(QString, because);

    const auto k = computeSharedElement(role, w, scalarOne(), message);
    QVERIFY(!k);
    QCOMPARE(k.error().code, ErrorCode::Malformed);
    QVERIFY2(k.error().message.contains(because), qPrintable(k.error().message));

    Spake2 party = make(role, w);
    hotdesk::OpenSslRandom random;
    QVERIFY(party.start(random));
    const auto mac = party.finish(message);
    QVERIFY(!mac);
    QCOMPARE(mac.error().code, ErrorCode::Malformed);
    QVERIFY2(mac.error().message.contains(because), qPrintable(mac.error().message));
    QCOMPARE(party.state(), Spake2::State::Failed);
    QVERIFY(!party.sessionKey());
}

void TestSpake2::outOfOrderCallsAreErrors_data()
{
    QTest::addColumn<Reached>("reached");
    QTest::addColumn<Step>("step");

    QTest::newRow("finish before start") << Reached::Created << Step::Finish;
    QTest::newRow("verify before start") << Reached::Created << Step::Verify;
    QTest::newRow("key before start") << Reached::Created << Step::SessionKey;
    QTest::newRow("start twice") << Reached::Started << Step::Start;
    QTest::newRow("verify before finish") << Reached::Started << Step::Verify;
    QTest::newRow("key before finish") << Reached::Started << Step::SessionKey;
    QTest::newRow("start after finish") << Reached::Finished << Step::Start;
    QTest::newRow("finish twice") << Reached::Finished << Step::Finish;
    QTest::newRow("key before confirmation") << Reached::Finished << Step::SessionKey;
    QTest::newRow("start after confirmation") << Reached::Confirmed << Step::Start;
    QTest::newRow("finish after confirmation") << Reached::Confirmed << Step::Finish;
    QTest::newRow("verify twice") << Reached::Confirmed << Step::Verify;
    QTest::newRow("start after failure") << Reached::Failed << Step::Start;
    QTest::newRow("finish after failure") << Reached::Failed << Step::Finish;
    QTest::newRow("verify after failure") << Reached::Failed << Step::Verify;
    QTest::newRow("key after failure") << Reached::Failed << Step::SessionKey;
    QTest::newRow("start when moved from") << Reached::MovedFrom << Step::Start;
    QTest::newRow("finish when moved from") << Reached::MovedFrom << Step::Finish;
    QTest::newRow("verify when moved from") << Reached::MovedFrom << Step::Verify;
    QTest::newRow("key when moved from") << Reached::MovedFrom << Step::SessionKey;
}

void TestSpake2::outOfOrderCallsAreErrors()
{
    QFETCH(Reached, reached);
    QFETCH(Step, step);

    const QByteArray w = wFor(QByteArrayLiteral("7391-0482"));
    Spake2 a = make(Role::A, w);
    Spake2 b = make(Role::B, w);
    hotdesk::OpenSslRandom random;
    const auto pB = b.start(random);
    QVERIFY(pB);
    QByteArray pA;
    QByteArray macB;

    if (reached != Reached::Created) {
        const auto sent = a.start(random);
        QVERIFY(sent);
        pA = *sent;
    }
    if (reached == Reached::Finished || reached == Reached::Confirmed) {
        QVERIFY(a.finish(*pB));
        const auto mac = b.finish(pA);
        QVERIFY(mac);
        macB = *mac;
    }
    if (reached == Reached::Confirmed)
        QVERIFY(a.verifyPeerConfirmation(macB));
    if (reached == Reached::Failed)
        QVERIFY(!a.finish(QByteArrayLiteral("garbage")));
    Spake2 *target = &a;
    std::optional<Spake2> thief;
    if (reached == Reached::MovedFrom) {
        thief.emplace(std::move(a));
        QVERIFY(thief->finish(*pB)); // the new owner carries on normally
    }
    const Spake2::State before = target->state();

    hotdesk::Error error;
    switch (step) {
    case Step::Start: {
        const auto r = target->start(random);
        QVERIFY(!r);
        error = r.error();
        break;
    }
    case Step::Finish: {
        const auto r = target->finish(*pB);
        QVERIFY(!r);
        error = r.error();
        break;
    }
    case Step::Verify: {
        const auto r = target->verifyPeerConfirmation(macB.isEmpty() ? QByteArray(kMacSize, '\0') : macB);
        QVERIFY(!r);
        error = r.error();
        break;
    }
    case Step::SessionKey: {
        const auto r = target->sessionKey();
        QVERIFY(!r);
        error = r.error();
        break;
    }
    }
    QCOMPARE(error.code, ErrorCode::Unsupported);
    QVERIFY(!error.message.isEmpty());
    QCOMPARE(target->state(), before);
    if (reached == Reached::Confirmed)
        QVERIFY(target->sessionKey()); // a stray call does not cost the finished exchange its key
}

void TestSpake2::refusesInvalidScalar_data()
{
    QTest::addColumn<QByteArray>("scalar");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("31 bytes") << QByteArray(31, '\x01');
    QTest::newRow("33 bytes") << (QByteArray(1, '\0') + scalarOne());
    QTest::newRow("zero") << QByteArray(kScalarSize, '\0');
    QTest::newRow("group order") << kOrder;
    QTest::newRow("all ones") << QByteArray(kScalarSize, '\xff');
}

void TestSpake2::refusesInvalidScalar()
{
    QFETCH(QByteArray, scalar);
    const QByteArray w = wFor(QByteArrayLiteral("7391-0482"));

    const auto created = Spake2::create(Role::A, scalar);
    QVERIFY(!created);
    QCOMPARE(created.error().code, ErrorCode::Malformed);
    QCOMPARE(computeMessage(Role::A, scalar, scalarOne()).error().code, ErrorCode::Malformed);
    QCOMPARE(computeMessage(Role::A, w, scalar).error().code, ErrorCode::Malformed);
    QCOMPARE(computeSharedElement(Role::A, w, scalar, kMUncompressed).error().code, ErrorCode::Malformed);
}

void TestSpake2::samplingRedrawsOutOfRangeCandidates()
{
    const QByteArray w = fromHex(QStringLiteral("2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f"));
    const QByteArray x = fromHex(QStringLiteral("43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729"));
    Spake2 a = make(Role::A, w, QByteArrayLiteral("server"), QByteArrayLiteral("client"));
    ScriptedRandom random({QByteArray(kScalarSize, '\xff'), kOrder, QByteArray(kScalarSize, '\0'), QByteArray(16, '\x01'), x});
    const auto pA = a.start(random);
    // The short candidate is a broken source, not bad luck: it ends the exchange.
    QVERIFY(!pA);
    QCOMPARE(pA.error().code, ErrorCode::CryptoFailure);
    QCOMPARE(random.calls(), 4);

    Spake2 again = make(Role::A, w, QByteArrayLiteral("server"), QByteArrayLiteral("client"));
    ScriptedRandom redraw({QByteArray(kScalarSize, '\xff'), kOrder, QByteArray(kScalarSize, '\0'), x});
    const auto pA2 = again.start(redraw);
    QVERIFY(pA2);
    QCOMPARE(redraw.calls(), 4);
    // The first vector of RFC 9382 Appendix B: the fourth draw is its x.
    QCOMPARE(pA2->toHex(), QByteArrayLiteral("04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9"
                                             "010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c"));
}

void TestSpake2::samplingGivesUpOnAStuckSource()
{
    Spake2 a = make(Role::A, wFor(QByteArrayLiteral("7391-0482")));
    StuckRandom random(QByteArray(kScalarSize, '\0'));
    const auto pA = a.start(random);
    QVERIFY(!pA);
    QCOMPARE(pA.error().code, ErrorCode::CryptoFailure);
    QVERIFY(random.calls() > 1);
    QVERIFY(random.calls() <= 64);
    QCOMPARE(a.state(), Spake2::State::Failed);
}

void TestSpake2::randomFailureEndsTheExchange()
{
    Spake2 a = make(Role::A, wFor(QByteArrayLiteral("7391-0482")));
    ScriptedRandom empty({});
    const auto pA = a.start(empty);
    QVERIFY(!pA);
    QCOMPARE(pA.error().code, ErrorCode::CryptoFailure);
    QCOMPARE(a.state(), Spake2::State::Failed);
}

// RFC 7914 section 12 gives scrypt("password", "NaCl", N=1024, r=8, p=16) as
// fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d9...;
// w is its first 40 bytes modulo the P-256 order.
void TestSpake2::passwordScalarKnownAnswer()
{
    const auto w = passwordScalar(QByteArrayLiteral("password"), QByteArrayLiteral("NaCl"), PasswordHashCost{1024, 8, 16});
    QVERIFY2(w, qPrintable(w ? QString() : w.error().message));
    QCOMPARE(w->toHex(), QByteArrayLiteral("158b59187212b9e1beeb84105c3a2fdaacd9f8a67171f4dfcdfa0c406f49395b"));
}

void TestSpake2::passwordScalarSeparatesInputs()
{
    const QByteArray w = wFor(QByteArrayLiteral("7391-0482"));
    QCOMPARE(w.size(), kScalarSize);
    QCOMPARE(wFor(QByteArrayLiteral("7391-0482")), w);
    QVERIFY(wFor(QByteArrayLiteral("7391-0483")) != w);
    QVERIFY(wFor(QByteArrayLiteral("7391-0482"), QByteArrayLiteral("pairing-0002")) != w);
    QVERIFY(wFor(QByteArrayLiteral("7391-0482"), QByteArray()) != w);
    QVERIFY(Spake2::create(Role::A, w));
}

void TestSpake2::passwordScalarRefusesBadInput_data()
{
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<quint64>("n");
    QTest::addColumn<quint32>("r");
    QTest::addColumn<quint32>("p");

    QTest::newRow("empty password") << QByteArray() << quint64(1024) << 8u << 1u;
    QTest::newRow("N not a power of two") << QByteArrayLiteral("pw") << quint64(1000) << 8u << 1u;
    QTest::newRow("N of 1") << QByteArrayLiteral("pw") << quint64(1) << 8u << 1u;
    QTest::newRow("r of 0") << QByteArrayLiteral("pw") << quint64(1024) << 0u << 1u;
    QTest::newRow("p of 0") << QByteArrayLiteral("pw") << quint64(1024) << 8u << 0u;
}

void TestSpake2::passwordScalarRefusesBadInput()
{
    QFETCH(QByteArray, password);
    QFETCH(quint64, n);
    QFETCH(quint32, r);
    QFETCH(quint32, p);

    const auto w = passwordScalar(password, QByteArrayLiteral("salt"), PasswordHashCost{n, r, p});
    QVERIFY(!w);
    QCOMPARE(w.error().code, ErrorCode::Malformed);
}

QTEST_GUILESS_MAIN(TestSpake2)
#include "tst_spake2.moc"
