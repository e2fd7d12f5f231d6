// Recovery codes in the keychain: read, hash or check on a worker thread, write back, then answer.
#include "recoverycodestore.h"

#include "core/username.h"

#include <QJsonDocument>
#include <QPointer>
#include <QThreadPool>

namespace hotdesk::store {
namespace {

// Runs work on the global thread pool and hands its result to done on
// context's thread; nothing is delivered once context is gone.
template <typename T>
void offThread(QObject *context, std::function<T()> work, std::function<void(T)> done)
{
    QPointer<QObject> guard(context);
    QThreadPool::globalInstance()->start([guard, work = std::move(work), done = std::move(done)]() mutable {
        T value = work();
        if (!guard)
            return;
        QMetaObject::invokeMethod(
            guard.data(),
            [guard, done = std::move(done), value = std::move(value)]() mutable {
                if (guard)
                    done(std::move(value));
            },
            Qt::QueuedConnection);
    });
}

Result<policy::RecoveryCodes> parse(const QByteArray &stored)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(stored, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return fail(ErrorCode::Malformed, QStringLiteral("the stored recovery codes are not readable; generate new recovery codes"));
    return policy::RecoveryCodes::fromJson(doc.object());
}

Error noCodes(const QString &user)
{
    return Error{ErrorCode::NotEnrolled,
        QStringLiteral("%1 has no recovery codes on this PC; they are made with 'hotdesk recovery-codes --user %1'").arg(user)};
}

} // namespace

RecoveryCodeStore::RecoveryCodeStore(SecretStore &secrets, RandomSource &random, QObject *parent, policy::PasswordHashCost cost)
    : QObject(parent)
    , m_secrets(secrets)
    , m_random(random)
    , m_cost(cost)
{
}

QString RecoveryCodeStore::keyFor(const QString &user)
{
    return QStringLiteral("recovery-codes:") + canonicalUserName(user);
}

void RecoveryCodeStore::generate(const QString &user, int count, std::function<void(Result<QStringList>)> done)
{
    // The random bytes are drawn here, on the caller's thread: RandomSource is not shared across threads.
    using Made = Result<policy::RecoveryCodes::Generated>;
    RandomSource &random = m_random;
    // A few spare bytes: the generator draws again on the (very unlikely) repeat of a code.
    auto entropy = random.bytes((qsizetype(count) + 4) * 5);
    if (!entropy) {
        QMetaObject::invokeMethod(this, [done, error = entropy.error()] { done(tl::unexpected(error)); }, Qt::QueuedConnection);
        return;
    }
    // A fixed source replays the bytes drawn above to the generator on the worker thread.
    struct Replay final : RandomSource {
        QByteArray data;
        Result<QByteArray> bytes(qsizetype n) override
        {
            if (n > data.size())
                return fail(ErrorCode::CryptoFailure, QStringLiteral("recovery codes: not enough random bytes"));
            QByteArray out = data.left(n);
            data.remove(0, n);
            return out;
        }
    };
    const policy::PasswordHashCost cost = m_cost;
    QPointer<RecoveryCodeStore> self(this);
    offThread<Made>(
        this,
        [count, cost, bytes = *entropy]() -> Made {
            Replay replay;
            replay.data = bytes;
            return policy::RecoveryCodes::generate(replay, count, cost);
        },
        [self, user, done](Made made) {
            if (!self)
                return;
            if (!made) {
                done(tl::unexpected(made.error()));
                return;
            }
            const QByteArray json = QJsonDocument(made->codes.toJson()).toJson(QJsonDocument::Compact);
            self->m_secrets.writeSecret(keyFor(user), json, [done, plain = made->plain](Status written) {
                if (!written)
                    done(tl::unexpected(written.error()));
                else
                    done(plain);
            });
        });
}

void RecoveryCodeStore::consume(const QString &user, const QString &typed, std::function<void(Result<RecoveryCodeAccepted>)> done)
{
    if (m_busy) {
        QMetaObject::invokeMethod(this, [done] {
            done(fail(ErrorCode::Cancelled, QStringLiteral("a recovery code is already being checked")));
        }, Qt::QueuedConnection);
        return;
    }
    m_busy = true;
    QPointer<RecoveryCodeStore> self(this);
    auto finish = [self, done](Result<RecoveryCodeAccepted> outcome) {
        if (self)
            self->m_busy = false;
        done(std::move(outcome));
    };
    m_secrets.readSecret(keyFor(user), [self, user, typed, finish](Result<QByteArray> stored) {
        if (!self)
            return;
        if (!stored) {
            finish(tl::unexpected(stored.error().code == ErrorCode::NotEnrolled ? noCodes(user) : stored.error()));
            return;
        }
        auto codes = parse(*stored);
        if (!codes) {
            finish(tl::unexpected(codes.error()));
            return;
        }
        if (codes->remaining() == 0) {
            finish(tl::unexpected(noCodes(user)));
            return;
        }
        struct Checked {
            Result<bool> fits;
            policy::RecoveryCodes codes;
        };
        offThread<Checked>(
            self,
            [typed, codes = std::move(*codes)]() mutable -> Checked {
                Result<bool> fits = codes.consume(typed);
                return Checked{std::move(fits), std::move(codes)};
            },
            [self, user, finish](Checked checked) {
                if (!self)
                    return;
                if (!checked.fits) {
                    finish(tl::unexpected(checked.fits.error()));
                    return;
                }
                if (!*checked.fits) {
                    finish(fail(ErrorCode::AccessDenied, QStringLiteral("that is not an unused recovery code of %1").arg(user)));
                    return;
                }
                // Used up on disk first: only then does the code count.
                const int left = checked.codes.remaining();
                const QByteArray json = QJsonDocument(checked.codes.toJson()).toJson(QJsonDocument::Compact);
                self->m_secrets.writeSecret(keyFor(user), json, [user, left, finish](Status written) {
                    if (!written) {
                        finish(tl::unexpected(written.error()));
                        return;
                    }
                    finish(RecoveryCodeAccepted{user, left});
                });
            });
    });
}

void RecoveryCodeStore::remaining(const QString &user, std::function<void(Result<int>)> done)
{
    m_secrets.readSecret(keyFor(user), [done](Result<QByteArray> stored) {
        if (!stored) {
            if (stored.error().code == ErrorCode::NotEnrolled)
                done(0);
            else
                done(tl::unexpected(stored.error()));
            return;
        }
        auto codes = parse(*stored);
        if (!codes)
            done(tl::unexpected(codes.error()));
        else
            done(codes->remaining());
    });
}

} // namespace hotdesk::store
