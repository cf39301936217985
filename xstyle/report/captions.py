"""Figure and table texts of the reports, as data: one (title, caption) pair per figure or table,
keyed by ``"<report>.<figure name>"``.

A section asks for its texts with :func:`text` and the numbers they show
(``save_figure(fig, root, name, **text("style.lowrank", steps=..., size=...))``); the templates use
:meth:`str.format` fields. Keeping the prose here leaves the section code to say *what* is drawn,
and lets a test check that every entry is used and every field is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from types import MappingProxyType
from typing import Any

__all__ = ["FLAT_SWEEP_NOTE", "TEXTS", "fields", "text"]

#: appended to the trade-off caption when the sweep hardly moves the losses
FLAT_SWEEP_NOTE = (
    " Here the losses hardly change across the sweep (under 1 %), so the knee means little: sweep"
    " wider ratios or run more steps."
)

_TEXTS: dict[str, tuple[str, str]] = {
    # --- the GAN report
    "gan.analogies": (
        "Analogies of the conditional DCGAN",
        (
            "Each row keeps one latent z and each column asks for one digit: if the label carries the"
            " content and z the style, a row is one handwriting (slant, thickness, width) writing every"
            " digit. Below: one digit written with many z."
        ),
    ),
    "gan.style_content": (
        "Which input carries what",
        (
            "Left: the share of each digit measure's variance over the z x label grid explained by z"
            " (purple) and by the label (orange), with 95 % bootstrap intervals over z. Then: the share"
            " of the integrated-gradients attribution on the label inputs (orange) against z (purple);"
            " how often the classifier reads the requested digit; the Gram-distance ratio between digits"
            " sharing z and digits sharing the label (below 1: the Gram statistic groups by handwriting);"
            " and, per generator stage, how much of its variation comes from z, the label or both."
        ),
    ),
    "gan.table_style_shares": (
        "Variance of each measure: z or label",
        (
            "A two-way decomposition (no replication) of each measure over the grid: rows are latents,"
            " columns labels. A style measure should vary with z; the label share says how much the"
            " digit's identity dictates it (a 1 is narrower than an 8 whatever the hand)."
        ),
    ),
    "gan.table_style_probes": (
        "Where the generator mixes the two inputs",
        (
            "Cross-validated linear probes at each generator stage, fed only the variation z causes"
            " (activations and measures centred within each label) or only the variation the label"
            " causes (centred within each z): probe accuracy of the label, and R² of each measure (z"
            " part / label part). A measure readable from z's part at a stage is carried there as style."
        ),
    ),
    "gan.table_style_numbers": (
        "Content control, attribution and the Gram view",
        (
            "Agreement: the share of the grid the classifier reads as the requested digit. IG shares:"
            " |attribution on the label inputs| / (|on the label| + |on z|) from the baseline z = 0, no"
            " label. Ratios: mean distance between digits with the same z over digits with the same"
            " label (with a 95 % interval), for Gram matrices and for the raw features of the"
            " classifier's convolutions."
        ),
    ),
    "gan.table_quality": ("Quality", ""),
    "gan.any_discriminator_numbers": (
        "Discriminator numbers",
        "Share of |attribution| on foreground pixels against their share of the image.",
    ),
    "gan.any_skipped": ("Parts skipped", "What this generator does not provide for these parts."),
    "gan.any_samples": (
        "Generated images",
        "G(z) for seeded latents{rows}.",
    ),
    "gan.samples": (
        "64 generated digits",
        (
            "G(z) for 64 latents z drawn from the prior '{prior}' with seed {seed}, drawn like MNIST:"
            " white ink on black. Look for recognisable, varied digits with clean strokes."
        ),
    ),
    "gan.class_balance": (
        "Class balance",
        (
            "Share of the {n_samples} generated digits the classifier assigns to each class. A GAN "
            "that covers all digits evenly stays near the dotted line; missing bars are dropped "
            "modes."
        ),
    ),
    "gan.discriminator_maps": (
        "Discriminator attributions",
        (
            "Digits with their logit D (above) and the attribution map below each: red pixels push D "
            "towards 'real', blue towards 'fake'. Maps concentrated on the strokes mean D judges the "
            "ink; mass on the background means it judges the empty paper."
        ),
    ),
    "gan.table_discriminator_numbers": (
        "Discriminator numbers",
        (
            "When the attribution share on ink is above the ink fraction, the map favours the strokes"
            " over the paper; here it is for {stroke_kinds} digits."
        ),
    ),
    "gan.latent_classes": (
        "Latent attribution per class",
        (
            "Rows are predicted classes, columns latent dimensions; colour is the mean attribution "
            "(red raises the class logit). Dimensions that light up for one row only are "
            "class-specific."
        ),
    ),
    "gan.table_causal_check": (
        "Causal check",
        (
            "Moving z along its top-attributed dimensions should raise the class logit more than "
            "moving random ones; it does for {causal_percent:.0f}% of the predicted classes."
        ),
    ),
    "gan.probes": (
        "Linear probes",
        (
            "Cross-validated accuracy (class) or R² (other attributes) of a linear probe from z and "
            "from each generator stage. Rising scores along the rows show where the generator makes "
            "an attribute explicit."
        ),
    ),
    "gan.direction_similarity": (
        "Agreement between direction finders",
        (
            "Cosine similarity between every pair of directions (red: same way, blue: opposite). A "
            "bright off-block cell means an unsupervised method (GANSpace, SeFa) rediscovered a named"
            " attribute (InterFaceGAN)."
        ),
    ),
    "gan.table_what_each_direction_does": (
        "What each direction does",
        (
            "Disentanglement: the intended (or dominant) attribute's share of all attribute changes, "
            "1 = it changes nothing else."
        ),
    ),
    "gan.training": (
        "Training history",
        (
            "Discriminator and generator losses per epoch and, where measured, the Fréchet distance "
            "to held-out digits (lower is better). Losses of a GAN do not fall steadily; the distance"
            " is the quality signal."
        ),
    ),
    "gan.prior_components": (
        "Prior components and digits",
        (
            "Share of each component's digits the classifier assigns to each digit, with the "
            "component's confident share (max p ≥ 0.9). One bright cell per row: the component became"
            " one digit; two cells: the generator splits it between two digits, and the blends near "
            "that split are the unconfident samples."
        ),
    ),
    "gan.table_prior_components": (
        "Prior components",
        (
            "If confidence hardly falls with the distance to the component's mean, a narrower prior "
            "(truncation) would not make the digits more recognisable."
        ),
    ),
    "gan.d_deletion": (
        "Deletion and insertion curves (D on a {kind} digit)",
        (
            "D's normalised logit as pixels are blanked (deletion) or restored (insertion) in the "
            "map's order (solid) or random orders (dashed). Faster than random = the map found what D"
            " uses. Passed: {passed}."
        ),
    ),
    "gan.d_randomisation": (
        "Model randomisation (discriminator)",
        (
            "Rank correlation of the map with the trained D's map as D's layers are re-initialised "
            "from the top; it should fall below the threshold (passed: {passed})."
        ),
    ),
    "gan.traversal": (
        "Traversal along {label}",
        (
            "Each row is one of 4 latents moved along the direction in steps of σ (columns; the "
            "middle column is the unchanged digit). The title names the attribute that changes most "
            "and how often the digit's class flips."
        ),
    ),
    # --- the style report (transfer, attribution, Gram, ablation, trade-off, sanity)
    "style.table_ablation_summary": ("Ablation summary", ""),
    "style.table_lowrank_sweep": ("Low-rank sweep", ""),
    "style.table_largest_gram_entries": ("Largest Gram-entry contributions", ""),
    "style.pair": (
        "Content, style and result",
        (
            "Left: the photo whose layout (VGG19 relu4_2 features) the result keeps. Middle: the "
            "painting whose texture statistics (Gram matrices of relu1_1 .. relu5_1) it copies. "
            "Right: the optimised image, the content's layout drawn with the style's textures."
        ),
    ),
    "style.stylised": (
        "Stylised result at full resolution",
        "The result as computed ({width}×{height} px), shown enlarged; the file is in figures/.",
    ),
    "style.transfer_losses": (
        "Loss curves of the transfer",
        (
            "Total loss, unweighted content loss and beta-weighted style loss at every optimiser "
            "evaluation (log scale); dotted lines mark the move to the next pyramid level, where the "
            "losses jump because they are measured at a larger size. A falling style curve with a "
            "slowly rising content curve is a healthy run."
        ),
    ),
    "style.table_final_losses": (
        "Final losses",
        ("Loss formulas (Gatys et al.): content ½Σ(F−P)², style Σ_l w_l/(4N²M²)Σ(G−A)², total αL_c + βL_s."),
    ),
    "style.style_content_maps": (
        "Style and content evidence",
        (
            "Top row: the stylised image, the total style evidence, the content evidence and their "
            "difference (red: the style explains the pixel more, blue: the content does). Lower rows:"
            " the style evidence of each VGG19 layer; shallow layers respond to fine texture, deep "
            "layers to larger strokes. Signs: {sign_convention} Here {cases}."
        ),
    ),
    "style.regions": (
        "Where the style lives, by region",
        (
            "The style and content evidence summed over {n_regions} SLIC superpixels (regions that"
            " follow the image's colour edges): each region is coloured by its share of the style"
            " evidence minus its share of the content evidence (red: the style explains the region"
            " more, blue: the content does). Regions pool the speckle of the pixel maps; the style"
            " dominates {share:.0f} % of the area. Can the maps answer here? {verdict}"
        ),
    ),
    "style.summary": (
        "Where this style lives",
        (
            "Left: the stylised image's regions coloured by which loss explains each more (red: the "
            "style, blue: the content; the colour bar gives the difference of the two shares). Then "
            "each style layer's share of the style loss's drop from the content photo to the stylised "
            "image; how much of each layer's style attribution its five strongest channels hold (a "
            "high share: a few channels carry the style); and how many eigencomponents of the "
            "painting's Gram matrix hold 90 % of its energy (few: a simple, low-rank style)."
        ),
    ),
    "style.table_summary": (
        "The answer, and how far to trust it",
        (
            "One row per question. The checks: the region insertion test (a faithful map finds the "
            "regions that carry its loss sooner than random orders; 95 % bootstrap interval of the "
            "gain), model randomisation (the map must change when VGG19's weights are randomised), "
            "deletion/insertion of pixels, and the causal ablation of the carrier channels."
        ),
    ),
    "style.region_faithfulness": (
        "Are the region maps faithful?",
        (
            "Middle: the stylised image's regions inserted into the content photo, most style evidence"
            " first, and the style loss after each step (1: the photo's loss, 0: the stylised image's)"
            "; grey: random orders. Right: the same for the content map, inserting into the painting "
            "(resized to the image) and following the content loss. A curve below the random ones means the "
            "map found the regions that carry its loss. Verdicts — localised: the map beats random;"
            " uniform: not even the regions sorted by the loss change each causes alone beat random by"
            " {uniform_gain}, so the loss is spread evenly and no map can answer; failed: the map does"
            " not find the regions that carry its loss. {verdict}"
        ),
    ),
    "style.table_region_faithfulness": (
        "Region faithfulness",
        (
            "Gain: the random orders' mean area under the normalised curve minus the map's (> 0: "
            "better than random); passed when the 95 % bootstrap interval over the random orders lies"
            " above 0. Best order: the gain of the regions sorted by the loss change each causes alone"
            " (what a map could reach); spread: the standard deviation of the random orders' areas. "
            "Should a filler's loss lie below the image's, the curve rises, the regions with the most "
            "negative evidence go first, and the test asks which regions carry that change."
        ),
    ),
    "style.table_attribution_numbers": (
        "Attribution numbers",
        (
            "Style wins on {style_percent:.1f}% of the pixels. The completeness error (|sum of "
            "attributions − loss difference| relative) checks IG's integration; the edge/flat ratio "
            "is the evidence on the content's strongest edges over its flattest areas."
        ),
    ),
    "style.channel_carriers": (
        "Channel carriers",
        (
            "One dot per channel: its share of the style-loss attribution against its share of the "
            "content-loss attribution. Dots above the diagonal carry style more than content; layers "
            "after relu4_2 cannot affect the content loss, so their content shares are zero."
        ),
    ),
    "style.table_strongest_style_carriers": (
        "Strongest style carriers",
        "Score (s − c)/(s + c) of the channel's shares: 1 = pure style, −1 = pure content.",
    ),
    "style.gram_entries": (
        "Gram entries that carry the style loss",
        (
            "Top row: each layer's style loss split over channel pairs (log scale; bright = large "
            "share). Below: for the largest pairs, the pixel attribution of that Gram entry's loss "
            "and the feature co-activation F_i·F_j whose sum is the entry."
        ),
    ),
    "style.carriers_visualised": (
        "What this style is made of",
        (
            "One row per style layer. Left: images that most excite the layer's top carrier channels "
            "(the channels holding most of the style's Gram energy; title: channel and mean "
            "activation). Right: textures matching one eigencomponent of the style's Gram matrix "
            "(title: its share of the trace and the relative error left). {size} px, {steps} Adam "
            "steps, seed {seed}. Component 0 is usually clear; later components look greyer because "
            "their eigenvectors mix signs, which ReLU features (>= 0) cannot produce."
        ),
    ),
    "style.table_carriers_visualised": (
        "Carrier pictures",
        (
            "Channels: mean activation of the channel on its picture, against the near-grey noise it "
            "started from. Gram components: relative error ||G - A_k||² / ||A_k||² left, against the "
            "noise it started from (1 would be an image with no feature energy)."
        ),
    ),
    "style.gram_spectrum": (
        "Gram eigenvalue spectra of the style",
        (
            "Normalised eigenvalues λ_i/Σλ against their rank, one line per layer (log-log). A steep "
            "fall means a few feature directions hold most of the style energy."
        ),
    ),
    "style.gram_cumulative": (
        "Cumulative energy",
        (
            "Share of each Gram matrix's trace kept by its top-k components. Where a curve reaches "
            "0.9 is the rank that holds 90% of that layer's style energy."
        ),
    ),
    "style.table_spectra": (
        "Spectra",
        (
            "Participation ratio (Σλ)²/Σλ² and entropy rank exp(H(λ/Σλ)): two effective numbers of "
            "components; k for 90%: the components holding 90% of the trace."
        ),
    ),
    "style.gram_comparison": (
        "Style loss of the result, split by layer",
        (
            "The stylised image's remaining style loss against the style per layer, split into the "
            "diagonal of the Gram matrix (channel energies) and the off-diagonal (channel "
            "co-activations). Tall bars show where the result still misses the style."
        ),
    ),
    "style.lowrank": (
        "Low-rank styles",
        (
            "Transfers ({steps} Adam steps, {size} px) whose Gram targets keep only the top-k "
            "eigencomponents, with their style loss measured against the full targets. When the curve"
            " flattens at small k, a few components already carry the look."
        ),
    ),
    "style.fingerprints": (
        "Style fingerprints",
        (
            "{n_images} images (photos, paintings and the stylised result) placed by their Gram "
            "fingerprints (PCA: close points have similar texture statistics). A successful transfer "
            "moves the result from the photos towards its painting."
        ),
    ),
    "style.statistics_agreement": (
        "Do style statistics agree?",
        (
            "Spearman rank correlation between the pairwise distances of the images under each style "
            "statistic (Gram matrices, AdaIN mean/std, MMD with linear, polynomial and Gaussian "
            "kernels). Values near 1: the statistics rank styles alike."
        ),
    ),
    "style.ablation": (
        "Ablation curves ({layer})",
        (
            "Relative change of the style loss (left) and the content loss (right) against the number"
            " of channels removed, per ranking (gram: channel energy in the style Gram; attribution /"
            " content_attribution: gradient × activation of the style / content loss; captum_ig, "
            "captum_style: Captum channel scores; random: a control). A ranking that finds style "
            "channels raises the style loss faster than random while leaving the content loss flat."
        ),
    ),
    "style.tradeoff": (
        "Trade-off curve",
        (
            "Style loss against content loss, one point per β/α, with the results below. The marked "
            "knee is where more style starts to cost much more content; the balance ratio r0 is where"
            " both ends of the trade-off weigh the same.{flat_note}"
        ),
    ),
    "style.table_trade_off_sweep": (
        "Trade-off sweep",
        "Balance ratio r0 = {balance:.3g}.",
    ),
    "style.deletion": (
        "Deletion and insertion curves ({name})",
        (
            "Normalised score (1 = the stylised image, 0 = the baseline) as a growing share of pixels"
            " is replaced in the map's order (solid) or in random orders (dashed). A map that finds "
            "the important pixels drops faster on deletion and rises faster on insertion than random."
            " Passed: {passed}."
        ),
    ),
    "style.randomisation": (
        "Model randomisation ({name})",
        (
            "Rank correlation between the trained network's map and the map after re-initialising "
            "more and more VGG19 blocks (top first). It should fall below the threshold "
            "{threshold:g}; a map that stays similar reflects the image, not the model. Passed: "
            "{passed}."
        ),
    ),
    "style.table_sanity_checks": (
        "Sanity checks",
        (
            "Deletion: area under the map's deletion curve vs random orders (lower is better; passing"
            " also needs the insertion curve to beat random orders, not shown). Randomisation: "
            "Spearman |map| correlation after randomising every block vs the threshold (lower is "
            "better)."
        ),
    ),
    "style.network_statistics": (
        "How {network}'s activations behave by depth",
        (
            "Statistics of the style image's activations at each style layer of {network}, shallow (0)"
            " to deep (1). Wang et al. (2021) found that a few large activations and a low entropy (a"
            " peaky layer) leave a Gram matrix that a handful of values dominate, which weakens a Gatys"
            " transfer on that layer. Here the peakiest layer is {peak_layer} (max / mean |activation|"
            " {peak:.3g}, {fold:.3g} times {flat}'s); the activation entropy is lowest at {low}"
            " ({entropy:.2f}; 1 = flat, 0 = one spike); the style's Gram energy spreads over the fewest"
            " channels at {narrow} (participation ratio {narrow_share:.1f} % of its channels) and over"
            " the most at {wide} ({wide_share:.1f} %)."
        ),
    ),
    "style.table_network_statistics": (
        "Activation statistics per style layer",
        (
            "On the style image at the report's size. Max / mean: the largest |activation| over the"
            " mean |activation|; entropies of the normalised |activations| and |Gram entries|, divided"
            " by their maximum (1 = flat, 0 = one spike); participation ratio: (Σλ)² / Σλ² of the Gram"
            " spectrum over the channel count. `xstyle explain networks` gives the same numbers for"
            " several networks side by side."
        ),
    ),
    # --- the real-time stylizer's section
    "stylizer.output": (
        "Stylizer output",
        "The photo after one forward pass of the stylizer.",
    ),
    "stylizer.table_versus_optimisation": (
        "Stylizer against the optimisation transfer",
        "Gatys losses on caffe VGG19 at the photo's size (lower is better).",
    ),
    "stylizer.attribution": (
        "Which input pixels make the output's style and content",
        (
            "Integrated gradients of the output's style loss and content loss with respect to the "
            "stylizer's input (baseline: a blur of the photo, since instance normalisation makes the "
            "stylizer blind to the input's scale). Evidence maps sum to 1; red in the last panel: the"
            " pixel does more for the style than for the content."
        ),
    ),
    "stylizer.discriminator": (
        "Which patches the discriminator finds in style",
        (
            "The patch discriminator's probability that each patch (about 46 px) comes from the "
            "painting, over the output, the photo and the painting; right: IG of its mean logit."
        ),
    ),
    "stylizer.ablation": (
        "Which residual blocks carry the style",
        (
            "Each block's residual branch zero-ablated with Intervention (the block becomes the "
            "identity): change of the style and content losses, the ablated outputs and, below, the "
            "style-loss change per ablated channel."
        ),
    ),
    "stylizer.training": (
        "Training curves",
        "Per-step losses (thin) and their trailing mean (thick).",
    ),
    # --- the collection report of a batch folder (xstyle/report/collection.py)
    "collection.table_summary": (
        "What the batch holds",
        (
            "Counted from the folder itself: done items have items/<id>/result.json, failed ones "
            "failed/<id>.json, and the items batch.json lists with neither are left (resume the batch "
            "to run them). Batch seconds: the run's wall time; item seconds: the items' own time summed "
            "over the workers."
        ),
    ),
    "collection.table_settings": (
        "Batch settings",
        "The settings every item ran with (batch.json); each item's seed derives from the batch seed.",
    ),
    "collection.contact_sheet": (
        "Contact sheet{part}",
        (
            "One row per content photo, one column per style: each cell is the stylised image of that"
            " pair. Grey cells failed (see the failed items), pale ones are listed but not run yet,"
            " white ones were never asked for. Read a column to see one style on every photo, a row"
            " to see one photo in every style."
        ),
    ),
    "collection.table_pairs": (
        "Every stylised pair",
        (
            "Click a column header to sort (again to reverse). Style share: β·L_style / total loss at "
            "the end; content SSIM: structural similarity of the stylised image to the photo (1: "
            "unchanged); style evidence share: the share of pixels whose style evidence exceeds their "
            "content evidence; map verdict: whether each map can answer on this pair (localised: its "
            "regions beat random insertion orders; uniform: the loss is spread evenly, no map can; "
            "failed: the map misses the regions that carry its loss). The last column opens the "
            "item's result.json."
        ),
    ),
    "collection.table_paintings": (
        "Every painting",
        (
            "Click a column header to sort (again to reverse). PR: participation ratio of the layer's "
            "Gram spectrum (how many eigencomponents carry the style energy: low is a simple style); "
            "top carrier: the channel with the largest share of the Gram energy, and that share. The "
            "last column opens the item's result.json."
        ),
    ),
    "collection.table_checkpoints": (
        "Every checkpoint",
        (
            "Click a column header to sort (again to reverse). Data set: what the generator was trained "
            "on (digits: mnist, emoji), which picks its classifier and held-out images. Confident: share "
            "of generated images the classifier reads with p ≥ 0.9; Fréchet distance and Inception Score "
            "are analogues on the classifier's features and outputs; probe: cross-validated accuracy of "
            "a linear probe reading the class at each generator stage (empty without a classifier). The "
            "last column opens the item's result.json."
        ),
    ),
    "collection.table_checkpoint_measures": (
        "What the generator's stages encode",
        (
            "Per checkpoint and measure of its data set's images (digits: ink, thickness, slant, width, "
            "height; emoji: colour, shape and skin tone), the cross-validated R² of a linear probe reading "
            "the measure, at the stage that reads it best (named after the number). 0 is chance, 1 a "
            "perfect linear read-out."
        ),
    ),
    "collection.atlas": (
        "Style atlas of {n} paintings",
        (
            "Each painting's style fingerprint (per VGG19 style layer, the channel means and standard "
            "deviations), standardised feature by feature and projected on its first two principal "
            "components ({explained} of the variance). Frames and dots are coloured by {clusters}; the "
            "clusters come from k-means on the whole standardised fingerprints, so two paintings close "
            "in this picture may still sit in different clusters."
        ),
    ),
    "collection.table_atlas": (
        "Paintings by cluster",
        "The cluster of each painting and its place in the atlas (principal components 1 and 2).",
    ),
    "collection.consensus": (
        "Carrier channels across {n} paintings",
        (
            "Per style layer, the channels in any painting's top-8 carriers (largest shares of the Gram"
            " energy), with the number of paintings that have them there. Red: shared, in at least "
            "{threshold} of the {n} paintings (dashed line); blue: unique to one painting; grey: in "
            "between. Shared channels carry style in general, unique ones what sets one painting apart."
        ),
    ),
    "collection.table_consensus": (
        "Shared and unique carrier channels",
        (
            "Shared: in the top-8 carriers of at least {threshold} of the {n} paintings; unique: in "
            "the top-8 of exactly one. Mean share: the channel's average share of the Gram energy in "
            "the paintings that list it."
        ),
    ),
    "collection.checkpoint_curves": (
        "Quality over training ({n} checkpoints)",
        (
            "Each measure against the checkpoint's epoch, one marker per checkpoint. Rising confident "
            "share and Inception Score and a falling Fréchet distance mean better images; the last "
            "panel shows how well a linear probe reads the class from each generator stage."
        ),
    ),
    "collection.table_failed": (
        "What went wrong",
        (
            "The first line of each error. Fix the input (or the setting) and run the batch again: "
            "done items are kept and only these, and the items left, run."
        ),
    ),
}

#: key -> (title template, caption template), read-only
TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType(_TEXTS)


def fields(key: str) -> set[str]:
    """The names an entry's title and caption need (``{name}`` fields)."""
    return {name for part in TEXTS[key] for _, name, _, _ in Formatter().parse(part) if name}


def text(key: str, **values: Any) -> dict[str, str]:
    """``{"title": ..., "caption": ...}`` of entry ``key`` with ``values`` filled in (pass it on as
    ``**text(...)``); a missing or unused value is an error."""
    if key not in TEXTS:
        raise KeyError(f"no report text {key!r}; the texts are in xstyle/report/captions.py.")
    need = fields(key)
    if need != set(values):
        raise TypeError(f"report text {key!r} takes {sorted(need)}; got {sorted(values)}.")
    title, caption = TEXTS[key]
    return {"title": title.format(**values), "caption": caption.format(**values)}
