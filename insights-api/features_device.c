/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The phone: what it is, what it cost at launch and how old it is. Device
 * price is a proxy for means that needs no SMS permission; the model's row
 * of device_pricing.json is used when the model is known, else the price of
 * phones sold with its RAM and storage, else the brand's average price
 * (avg_device_price.json), and the band comes from the same file.
 */
#include <string.h>

#include "common/ist_date.h"
#include "insights-api/features_impl.h"

static double year_of(int64_t ts)
{
    return ist_year(ts);
}

static void run_device(struct fe_ctx *ctx, struct fe_out *o)
{
    const struct user_data *u = ctx->u;
    bool ok = u->device_state == SOURCE_OK;
    const struct device_fact *d = &u->device;
    struct maps_device_price pr;
    bool priced = ok && maps_device_price(ctx->maps, d->brand, d->model, d->total_ram_mb,
                                          d->total_storage_mb, &pr);
    fe_str(o, ok ? d->brand : NULL, "device_brand");
    fe_str(o, ok ? d->model : NULL, "device_model");
    fe_str(o, ok ? d->manufacturer : NULL, "device_manufacturer");
    fe_str(o, ok ? d->os_version : NULL, "device_os_version");
    fe_num(o, ok && d->sdk_int > 0 ? d->sdk_int : NAN, "device_sdk_int");
    fe_num(o, ok && d->total_ram_mb > 0 ? d->total_ram_mb / 1024.0 : NAN, "device_total_ram_gb");
    fe_num(o, ok && d->total_storage_mb > 0 ? d->total_storage_mb / 1024.0 : NAN,
           "device_total_storage_gb");
    fe_num(o, priced ? pr.price_inr : NAN, "device_price_inr");
    fe_str(o, priced ? maps_price_source_name(pr.source) : NULL, "device_price_source");
    fe_str(o, priced ? maps_price_band(ctx->maps, pr.price_inr) : NULL, "device_price_band");
    int rank = priced ? maps_price_band_rank(ctx->maps, pr.price_inr) : -1;
    fe_num(o, rank >= 0 ? rank : NAN, "device_price_band_rank");
    bool year = priced && pr.source == MAPS_PRICE_MODEL && pr.launch_year > 0;
    fe_num(o, year ? pr.launch_year : NAN, "device_launch_year");
    fe_num(o, year ? fmax(0, year_of(ctx->now) - pr.launch_year) : NAN, "device_age_years");
}

const struct fe_family fe_family_device = {"device", FEATURES_GROUP_DEVICE, false, run_device};
