import Foundation
import DiscernEngine
import DiscernExplain
import DiscernModels
import DiscernRobustness

/// Everything `discern run` / `train` can be told; the defaults are the study's protocol.
public struct StudyOptions: Sendable {
    /// Holds training_set/ and test_set/.
    public var data: String
    /// Folders of images of classes never seen (evaluation only).
    public var unknown: [String] = []
    /// Folders with the class sub-folders of the training data, photos taken elsewhere (evaluation only: they never
    /// influence a threshold or the choice of a score).
    public var shifted: [String] = []
    public var backbone: BackboneKind = .efficientnetLite0
    public var weights: String?
    /// The side every image is resized to, in training and in the model file (nil = the backbone's own,
    /// `BackboneKind.inputSize`).
    public var imageSize: Int?
    /// Where weights are looked for when `weights` is nil (the CLI makes it from its environment).
    public var weightsSearch = WeightsSearch()
    public var epochs = 20
    public var batchSize = 32
    public var learningRate = 0.001
    /// Cached augmented views per training image; 0 = the study's fresh augmentation every epoch.
    public var augmentViews = 5
    /// About this share of the training views carries a photo degradation (`RandomPhotoDegradation`: lower
    /// resolution, JPEG, blur, colour) on top of the study's augmentation: `degradedViews` of the `augmentViews`
    /// cached views, or this probability per streamed image (`augmentViews` 0, fine-tuning). 0 = the study's
    /// augmentation alone.
    public var degradation = 0.2
    public var seed: UInt64 = 0
    public var out: String = "runs/study"
    public var force = false
    public var precision: Precision = .fp32
    /// Share of the training images held out to calibrate the OOD threshold (not trained on).
    public var validationFraction = 0.1
    /// Share of held-out photos of the trained classes (shifted copies included) that must not be called unknown.
    public var acceptFraction = 0.99
    /// The "unsure" threshold: at most this share of errors among the accepted held-out photos (shifted copies
    /// included).
    public var maxRisk = 0.01
    /// Shifted copies (`PhotoShift`) made of every held-out image to calibrate both questions; 0 = clean images only.
    public var shiftCopies = 3
    /// Thumbnail copies (`PhotoShift.Kind.thumbnail`, 24–40 px) of every held-out image: the "unsure" threshold of
    /// low-resolution photos is calibrated on them (with any held-out photo that small); 0 = none.
    public var thumbnailCopies = 3
    /// Detail copies (`PhotoShift.Kind.detail`, enlarged close-ups) of every held-out image: proxy unknowns that are
    /// photos, for choosing the unknown score; 0 = none.
    public var detailCopies = 1
    /// Photos whose decoded shorter side is below this many pixels get their own unsure threshold; nil = half the
    /// backbone's input size, 0 = one threshold for every size (the thumbnail copies then count in it).
    public var lowResolutionBelow: Int?
    /// `lowResolutionBelow` with its default filled in.
    public var lowResolutionCut: Int { lowResolutionBelow ?? backbone.inputSize / 2 }
    /// The unsure risk is held separately on typical images (an unknown score at least that of this share of the
    /// clean held-out photos) and on the rest (shifted copies and thumbnails, mostly); nil = one pooled threshold.
    public var typicalFraction: Double?
    /// Scores for the two questions; nil = chosen on held-out data.
    public var unknownScore: OODScoreKind?
    public var unsureScore: OODScoreKind?
    /// With this confidence the threshold accepts at least `acceptFraction` of new in-distribution images
    /// (a binomial tolerance bound: a few hundred validation images make the plain quantile noisy).
    /// nil = plain quantile.
    public var calibrationConfidence: Double? = 0.9
    /// The study's single-score rule with this score (and `fixedThreshold`, or its calibrated one) instead of
    /// the two questions.
    public var score: OODScoreKind?
    public var fixedThreshold: Double?
    public var checkpointAccuracy: Double? = 0.95
    public var camMethod: CAMMethod = .gradcam
    public var camLayer: String?
    /// Score-CAM's masked forwards per test image (the most varying channels); nil = every channel.
    public var scoreCAMChannels: Int? = 256
    public var attentionThreshold = 0.5
    public var explain = true
    /// Decode JPEGs at least twice the input size at a reduced scale (libjpeg-turbo): faster on large photos,
    /// no longer bit-exact with PIL.
    public var fastDecode = false
    /// Continue an interrupted run in `out`: finished feature extractions are read back from `out/cache`.
    public var resume = false
    /// `train --features`: files of `discern features` shards to train from instead of extracting.
    public var featureFiles: [String] = []
    /// After the head: unfreeze the last `unfreezeBlocks` blocks (nil = all) and train them with the head
    /// for `fineTuneEpochs` one-cycle epochs at peak rate `fineTuneLearningRate` (the head's; lr/100 earliest).
    public var fineTune = false
    public var unfreezeBlocks: Int? = 6
    public var fineTuneEpochs = 4
    public var fineTuneLearningRate = 0.001

    public init(data: String) { self.data = data }
}

extension StudyOptions {
    /// How many of the `augmentViews` cached views carry a photo degradation (at least one view stays plain).
    public var degradedViews: Int {
        guard augmentViews > 1, degradation > 0 else { return 0 }
        return min(augmentViews - 1, max(1, Int((Double(augmentViews) * degradation).rounded())))
    }

    /// The cached views with the study's augmentation alone: with the clean features, the verdict's references.
    public var plainViews: Int { augmentViews - degradedViews }

    /// How the head's training images are augmented, in words (log, report, metrics).
    public var augmentationSummary: String {
        if augmentViews > 0 {
            return "\(augmentViews) cached augmented views per image"
                + (degradedViews > 0 ? " (\(degradedViews) with a photo degradation)" : "")
        }
        return "fresh augmentation every epoch"
            + (degradation > 0 ? String(format: ", %.0f%% with a photo degradation", degradation * 100)
                               : " (the study's protocol)")
    }
}
