/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mapping artifacts insights-api computes features with: app categories,
 * fraud-assist apps, device prices (by model and by brand), merchant
 * categories and SMS sender entities. They are data files in open formats
 * (insights-api/artifacts/, documented in docs/insights-artifacts.md), each
 * with its own version, loaded from bytes the caller fetched (plain or
 * unsealed, file or S3: common/artifact.h). This module does no I/O.
 *
 * A loaded struct maps is immutable and shared read-only by every thread.
 * Lookups never allocate; returned pointers live as long as the maps.
 */
#ifndef INSIGHTS_MAPS_H
#define INSIGHTS_MAPS_H

#include <stdbool.h>
#include <stddef.h>

enum maps_kind {
    MAPS_APPS = 0,       /* apps_mapping.json: package -> category, sub_category */
    MAPS_FRAUD_APPS,     /* fraud_apps_mapping.json: package -> fraud category; emulator markers */
    MAPS_DEVICE_PRICING, /* device_pricing.json: brand + model -> launch price INR, year */
    MAPS_AVG_DEVICE_PRICE,  /* avg_device_price.json: brand -> average price INR; price bands */
    MAPS_MERCHANTS,         /* merchant_mapping.csv: merchant key -> category */
    MAPS_SMS_SENDERS,       /* sms_sender_mapping.json: header -> entity, type */
    MAPS_PAYERS,            /* payer_mapping.json: payer name -> kind (gig_platform, ...) */
    MAPS_CLIENT_EXCLUSIONS, /* client_exclusions.json: a client's own sender headers and apps */
    MAPS_KIND_COUNT,
};

/* Static description of each kind, for the daemon's config table and docs. */
struct maps_kind_info {
    const char *name;         /* "apps_mapping", ... (metrics label) */
    const char *env;          /* "APPS_MAPPING_PATH", ... (Credeau guide names) */
    const char *default_path; /* "insights-api/artifacts/apps_mapping.json", ... */
};
const struct maps_kind_info *maps_kind_info(enum maps_kind kind);

struct maps;

/* Empty maps (every lookup misses). NULL only on allocation failure. */
struct maps *maps_new(void);
void maps_free(struct maps *m);

/*
 * Parse one artifact's bytes (need not be NUL-terminated) into m, replacing
 * what that kind held. Returns 0, or -1 with err naming the artifact, the
 * line or entry and the problem (never the content). Not thread-safe: load
 * everything, then share; on reload build a new struct maps and swap.
 */
int maps_load(struct maps *m, enum maps_kind kind, const char *bytes, size_t len, char *err,
              size_t err_len) __attribute__((warn_unused_result));

/*
 * Convenience for tools, tests and benches: load all six from the default
 * paths under repo_root ("" or NULL = cwd). Returns NULL with err set.
 */
struct maps *maps_load_defaults(const char *repo_root, char *err, size_t err_len);

/* The artifact's version field ("" when the kind was never loaded). */
const char *maps_version(const struct maps *m, enum maps_kind kind);
bool maps_loaded(const struct maps *m, enum maps_kind kind);

/* ---- lookups (keys are matched case-insensitively) ---- */

struct maps_app {
    const char *category;     /* "lending", "gambling", "finance", "social", ... */
    const char *sub_category; /* "personal_loan", "fantasy_sports", "upi", ... or NULL */
};
/* NULL when the package is not mapped. */
const struct maps_app *maps_app_lookup(const struct maps *m, const char *package);

/* Fraud-assist category of a package ("fake_gps", "root", "cloner", ...), or NULL. */
const char *maps_fraud_app_lookup(const struct maps *m, const char *package);
/*
 * True when brand/model/manufacturer look like an emulator or a generic build
 * (markers from fraud_apps_mapping.json, substring match). NULL args are skipped.
 */
bool maps_is_emulator(const struct maps *m, const char *brand, const char *model,
                      const char *manufacturer);

/* Where a device price came from, most precise first. */
enum maps_price_source {
    MAPS_PRICE_MODEL = 0,    /* the model's row in device_pricing.json */
    MAPS_PRICE_MEMORY_CLASS, /* the RAM/storage class of avg_device_price.json */
    MAPS_PRICE_BRAND,        /* the brand's average price */
};
/* "model", "memory_class", "brand_average". */
const char *maps_price_source_name(enum maps_price_source s);

struct maps_device_price {
    double price_inr; /* launch price, INR */
    int launch_year;  /* 0 when unknown (only model rows have one) */
    enum maps_price_source source;
};
/*
 * Price of a device: the model row (matched on the normalised model, then on
 * the model without a leading brand name, then on "brand model"), else the
 * price of its RAM/storage class (ram_mb and storage_mb as the phone reports
 * them, rounded up to the sizes phones are sold with; NAN or <= 0 = unknown),
 * else the brand's average price. Returns false when none is known.
 */
bool maps_device_price(const struct maps *m, const char *brand, const char *model, double ram_mb,
                       double storage_mb, struct maps_device_price *out);
/* Price band of an INR price from avg_device_price.json's bands ("budget", ...); NULL if none. */
const char *maps_price_band(const struct maps *m, double price_inr);
/* The band's ordinal (0 = cheapest band), or -1. */
int maps_price_band_rank(const struct maps *m, double price_inr);

/*
 * Merchant category of a transaction counter-party as printed in an SMS
 * ("AMAZON PAY INDIA", "swiggy@icici", "9876xxxxxx@ybl"): the mapping first
 * (exact clean name, then word tokens), then the rules in the mapping's
 * header (VPA of digits -> transfers, ...). NULL when nothing matched.
 * Never allocates: party is normalised into a bounded stack buffer.
 */
const char *maps_merchant_category(const struct maps *m, const char *party);

struct maps_sender {
    const char *entity; /* "hdfc bank" */
    const char *type;   /* "bank", "nbfc", "lender", "credit_card", "wallet", ... */
};
/*
 * The sender of header, or NULL when it is not mapped. header is a record's
 * sms_sender as sms-extraction returns it: the raw header normalised by
 * common/sender.h, the rule this map's headers are loaded with too.
 */
const struct maps_sender *maps_sender_lookup(const struct maps *m, const char *header);
/* True when an entity name (sender_name or counter-party) is a known lender/NBFC. */
bool maps_is_lender_name(const struct maps *m, const char *name);

struct maps_payer {
    const char *name; /* "Swiggy" */
    const char *kind; /* "gig_platform", ... */
};
/*
 * The payer named in a credit's counter-party, or NULL: the whole normalised
 * party, then runs of up to three of its words, against payer_mapping.json's
 * keys. Never allocates.
 */
const struct maps_payer *maps_payer_lookup(const struct maps *m, const char *party);

/*
 * Leakage control (client_exclusions.json): true when header (a sender
 * header, any operator prefix or -S/-T suffix ignored) or package is one of
 * client_id's own, whose SMS and apps the features leave out.
 */
bool maps_client_has(const struct maps *m, bool app, const char *client_id, const char *key);
/* True when client_id has any exclusion at all (a quick test before the per-item ones). */
bool maps_client_known(const struct maps *m, const char *client_id);
/*
 * client_id's own sender headers, normalised as the extractor normalises a
 * header ("kshvic"); *n = 0 and NULL when none. For callers that test many
 * SMS: compare each header with these instead of calling maps_client_has.
 */
const char *const *maps_client_headers(const struct maps *m, const char *client_id, size_t *n);

#endif
