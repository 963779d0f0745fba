"""The rule-based interpreter's word lists (English, Hinglish, and native-script spellings).

Conventions (the labelled set in ``benchmarks/nl_query_set.jsonl`` follows them):
- ``around N bpm`` / ``N bpm`` / ``bpm N`` → [floor(0.95·N), ceil(1.05·N)] (±5 %: a DJ deck's usual
  pitch range, a bit narrower than the ±6 % mixing tolerance); ``between A and B``, ``A-B``,
  ``A to B`` → [A, B]; ``above/over/faster than N`` → min N; ``under/below/slower than N`` → max N;
  ``fast``/``tez`` → min 120; ``slow``/``dheeme`` → max 90.
- A key sets both ``key`` and ``camelot`` (one key, two notations), in the engine's spelling.
- Energy words give 0–1 ranges (``ENERGY``); mood words a mood; some words both (``chill``).
- ``90s`` → era ``1990s``; ``old``/``purane``/``retro`` → ``classic`` (before 2000, weaker than a
  decade); ``new``/``latest``/``naye`` → ``recent`` (2020 on).
- ``dance``, ``item`` are weak genres: any other genre word wins over them.
A word in any script is matched by its phonetic key (``melody.catalog.keys``): ``pyar`` = ``pyaar``,
``गाने`` = ``gaane``, ``தமிழ்`` = ``tamil``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ARTISTS",
    "BPM_FAST",
    "BPM_SLOW",
    "ENERGY",
    "FILLERS",
    "LANGUAGES",
    "PHRASES",
]

ENERGY: dict[str, tuple[float, float]] = {
    "chill": (0.0, 0.4),
    "upbeat": (0.6, 1.0),
    "dance": (0.65, 1.0),
    "high": (0.7, 1.0),  # energetic, workout, party
}
BPM_FAST = 120
BPM_SLOW = 90

LANGUAGES: dict[str, str] = {
    "hindi": "hi", "हिंदी": "hi", "हिन्दी": "hi",
    "tamil": "ta", "tamizh": "ta", "தமிழ்": "ta", "तमिल": "ta",
    "telugu": "te", "తెలుగు": "te",
    "punjabi": "pa", "panjabi": "pa", "पंजाबी": "pa", "ਪੰਜਾਬੀ": "pa",
    "bengali": "bn", "bangla": "bn", "বাংলা": "bn",
    "marathi": "mr", "मराठी": "mr",
    "malayalam": "ml", "kannada": "kn", "gujarati": "gu", "ગુજરાતી": "gu",
    "english": "en", "angrezi": "en", "korean": "ko", "japanese": "ja", "spanish": "es",
    "urdu": "ur", "bhojpuri": "bho", "arabic": "ar", "french": "fr", "portuguese": "pt",
    "italian": "it", "german": "de", "turkish": "tr", "odia": "or", "assamese": "as", "nepali": "ne",
}

_CHILL: dict[str, Any] = {"mood": "chill", "energy": ENERGY["chill"]}
_WORKOUT: dict[str, Any] = {"mood": "workout", "energy": ENERGY["high"]}
_PARTY: dict[str, Any] = {"mood": "party", "energy": ENERGY["high"]}
_HIGH: dict[str, Any] = {"energy": ENERGY["high"]}
_DANCE: dict[str, Any] = {"weak_genre": "dance", "energy": ENERGY["dance"]}


def _same(words: str, effect: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w.replace("_", " "): effect for w in words.split()}


def _names(words: str, name: str) -> dict[str, str]:
    return {w.replace("_", " "): name for w in words.split()}


# phrase (space-separated words; "_" joins the words of one phrase below) → what it sets
PHRASES: dict[str, dict[str, Any]] = {
    # moods
    **_same("sad dard dard_bhare dukhi udaas udas gham ghum breakup heartbreak emotional dil_tootne dil_toota "
            "tuta_dil toota_dil दर्द उदास दुखी", {"mood": "sad"}),
    **_same("romantic romance love pyaar pyar ishq mohabbat prem prema rain rainy barish baarish monsoon saawan "
            "sawan रोमांटिक प्यार इश्क़ बारिश", {"mood": "romantic"}),
    **_same("happy khushi khush cheerful feel_good road_trip खुशी", {"mood": "happy"}),
    **_same("devotional bhajan bhajans bhakti aarti kirtan spiritual भजन भक्ति", {"mood": "devotional"}),
    **_same("patriotic desh_bhakti deshbhakti देशभक्ति", {"mood": "patriotic"}),
    **_same("wedding shaadi shadi sangeet baraat mehndi mehendi vivah शादी", {"mood": "wedding"}),
    **_same("motivational inspirational", {"mood": "motivational"}),
    # moods that carry an energy range
    **_same("chill chilled chillout relaxing relax calm soothing sukoon peaceful sleep study studying focus "
            "mellow सुकून", _CHILL),
    **_same("workout gym running run exercise cardio fitness", _WORKOUT),
    **_same("party club holi पार्टी", _PARTY),
    # energy only
    **_same("energetic high_energy josh joshila mass pumped hype", _HIGH),
    **_same("upbeat", {"energy": ENERGY["upbeat"]}),
    **_same("low_energy", {"energy": ENERGY["chill"]}),
    # tempo words
    **_same("fast tez", {"bpm": (BPM_FAST, None)}),
    **_same("slow dheeme dheere dheema", {"bpm": (None, BPM_SLOW)}),
    # genres (dance and item are weak: another genre word wins)
    **_same("dance dancing item", _DANCE),
    "kuthu": {"genre": "kuthu", "energy": ENERGY["dance"]},
    "bhangra": {"genre": "bhangra", "default_language": "pa"},
    **_same("lofi lo-fi lo_fi", {"genre": "lo-fi", **_CHILL}),
    **_same("hip_hop hip-hop hiphop rap", {"genre": "hip hop"}),
    **_same("k-pop kpop k_pop", {"genre": "k-pop"}),
    **_same("j-pop jpop", {"genre": "j-pop"}),
    **_same("r&b rnb", {"genre": "r&b"}),
    **_same("ghazal ghazals", {"genre": "ghazal"}),
    "qawwali": {"genre": "qawwali"},
    "deep house": {"genre": "house"},
    "latin pop": {"genre": "latin pop"},
    **{g: {"genre": g} for g in (
        "pop rock edm techno house trance disco jazz blues metal indie folk classical carnatic hindustani "
        "sufi reggaeton anime garba bollywood kollywood tollywood mollywood country reggae punk soul funk "
        "ballad electronic ambient").split()},
    # eras
    **_same("old purane purani retro evergreen classic classics vintage पुराने", {"weak_era": "classic"}),
    **_same("new latest naye naya recent fresh नए", {"era": "recent"}),
    **{f"{w}": {"era": f"19{d}0s"} for d, w in (("5", "fifties"), ("6", "sixties"), ("7", "seventies"),
                                              ("8", "eighties"), ("9", "nineties"))},
}

# Words that carry no constraint ("songs", "gaane", "play", "for"): explained, but set nothing.
FILLERS: frozenset[str] = frozenset(
    ("songs song gaane gaana gana gane geet geeth track tracks music playlist mix hits hit top best some me "
     "mujhe sunao bajao play give for the a an of from with in ke ki ka mein me wale waale wala wali bhare bhara "
     "bhari koi kuch please pls vibes numbers melodies melody list tunes that are i want need show find "
     "something good nice popular and or at on to bpm tempo key camelot jaise jaisa jaisi like similar by but "
     "paadalgal patalkal गाने गाना गीत के की का में वाले भरे ਗੀਤ பாடல்கள் பாடல் పాటలు").split()
)

# Known artists and their aliases → the catalog's spelling. Names not listed are still found after
# "by" ("songs by X"); the finder matches artists by name in the catalog.
ARTISTS: dict[str, str] = {
    **_names("arijit arijit_singh", "Arijit Singh"),
    **_names("shreya shreya_ghoshal", "Shreya Ghoshal"),
    **_names("sid_sriram", "Sid Sriram"),
    **_names("ar_rahman a_r_rahman a.r._rahman a.r.rahman rahman", "A. R. Rahman"),
    **_names("lata lata_mangeshkar lata_ji", "Lata Mangeshkar"),
    **_names("anirudh anirudh_ravichander", "Anirudh Ravichander"),
    **_names("atif atif_aslam", "Atif Aslam"),
    **_names("kishore kishore_kumar kishore_da", "Kishore Kumar"),
    **_names("rafi mohammed_rafi mohd_rafi", "Mohammed Rafi"),
    **_names("diljit diljit_dosanjh", "Diljit Dosanjh"),
    **_names("sidhu_moose_wala sidhu_moosewala", "Sidhu Moose Wala"),
    **_names("honey_singh yo_yo_honey_singh", "Yo Yo Honey Singh"),
    **{name.lower(): name for name in (
        "Taylor Swift", "Udit Narayan", "Sonu Nigam", "Asha Bhosle", "Neha Kakkar", "AP Dhillon", "BTS",
        "Ed Sheeran", "Dua Lipa", "Coldplay", "Badshah", "Karan Aujla", "Shakira", "Justin Bieber",
        "Bruno Mars", "Adele", "Billie Eilish", "Michael Jackson", "Rahat Fateh Ali Khan",
        "Nusrat Fateh Ali Khan", "Kumar Sanu", "Alka Yagnik", "Sunidhi Chauhan", "Shankar Mahadevan",
        "Ilaiyaraaja", "Jubin Nautiyal", "Guru Randhawa", "Daler Mehndi", "B Praak", "Mohit Chauhan",
        "Shilpa Rao", "Vishal Dadlani", "Sukhwinder Singh", "Hariharan", "Chinmayi", "Bad Bunny",
        "Daddy Yankee", "Lady Gaga", "The Beatles", "YOASOBI", "Harrdy Sandhu", "Armaan Malik",
    )},
    "the weeknd": "The Weeknd", "weeknd": "The Weeknd",
}
