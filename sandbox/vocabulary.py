"""Words the synthetic account is made of: names, subjects, auto-reply phrases."""

from __future__ import annotations

FIRST_NAMES = (
    "Anna", "Marc", "Laia", "Jordi", "Núria", "Pau", "Montse", "Joan", "María", "José",
    "Carmen", "Antonio", "Lucía", "Javier", "Élodie", "François", "Jürgen", "Søren",
    "Emma", "Oliver", "Chloé", "Iñaki", "Ainhoa", "Xavier", "Mireia", "Rosa", "Pere",
    "Ahmed", "Fatima", "Wei", "Yuki", "Olga", "Dmitri", "Zoë", "Noah", "Ava", "Liam",
)
LAST_NAMES = (
    "Puig", "Vidal", "Soler", "Ferrer", "Garcia", "Martínez", "López", "Sánchez", "Roca",
    "Serra", "Font", "Pujol", "Müller", "Schmidt", "Dubois", "Lefèvre", "Smith", "Jones",
    "O'Brien", "Núñez", "Castañer", "Gómez", "Rovira", "Batlle", "Costa", "Silva", "Souza",
    "Kowalski", "Nakamura", "Chen", "Ivanova", "Andersen", "Mas", "Torres", "Ibáñez",
)
CUSTOMER_DOMAINS = (
    "gmail.com", "hotmail.com", "yahoo.es", "outlook.com", "telefonica.net", "protonmail.com",
    "xtec.cat", "icloud.com", "gmx.de", "orange.fr", "empresa-example.cat", "uab.cat",
)

MAILBOXES = (  # (name, share of volume): one dominant, a long tail
    ("Atenció a les persones sòcies", 0.64),
    ("Factures", 0.12),
    ("Incidències tècniques", 0.11),
    ("Comercialització", 0.06),
    ("Generation kWh", 0.04),
    ("Projectes", 0.02),
)

BASE_TAGS = (
    "factura", "canvi de titular", "lectura", "autoproducció", "baixa", "alta nova",
    "reclamació", "tarifa", "impagament", "generation", "bo social", "comptador",
    "dades bancàries", "potència", "urgent", "vip", "duplicat", "spam-filter",
    "API", "Ñandú test", "zz-legacy",
)
TAG_COLORS = ("#a5b2bd", "#ff9d98", "#fecd8e", "#99d4a8", "#8ec4ef", "#c9a6f2", "#f7b7d2")

SUBJECTS = (
    "Canvi de titular del contracte", "Consulta sobre la meva factura",
    "No entenc el consum d'aquest mes", "Alta de nou punt de subministrament",
    "Problema amb el comptador", "Cambio de cuenta bancaria", "Solicitud de baja",
    "Quiero hacerme socio", "Autoproducció: compensació d'excedents",
    "Question about my contract", "Invoice amount looks wrong", "Change of address",
    "Lectura estimada incorrecta", "Potència contractada", "Bo social",
    "Factura duplicada", "¿Por qué ha subido la tarifa?", "Aportació Generation kWh",
    "Demande d'information", "Anfrage zum Vertrag", "Certificat d'origen renovable",
    "Error al portal web ⚡", "Reclamació 📄 urgent", "Préstec de comptador intel·ligent",
    "日本からの問い合わせ", "Заявка на подключение", "Pagament fraccionat",
)
LONG_SUBJECT_PARTS = (
    "Sol·licitud de revisió de la factura del període",
    "amb lectures estimades i refacturació per canvi de potència",
    "després del canvi de comercialitzadora i alta d'autoproducció",
    "— ¿pueden confirmar el importe correcto? — thanks in advance",
)

CAMPAIGNS = ("Your new invoice", "La teva nova factura", "Tu nueva factura")
REPLY_PREFIXES = ("Re: ", "RE: ", "re: ", "Re: Re: ", "Fwd: ", "FW: ", "RE: RE: ", "Fw: Re: ")

OUT_OF_OFFICE = (
    "Out of office", "Automatic reply", "Auto: Out of Office", "Out of Office: ",
    "Fuera de la oficina", "Respuesta automática", "Resposta automàtica",
    "Fora de l'oficina", "Resposta automática", "Ausente do escritório",
    "Réponse automatique", "Absence du bureau", "Abwesenheitsnotiz",
    "Automatische Antwort",
)

BODY_SENTENCES = (
    "Bon dia, us escric perquè tinc un dubte amb la factura.",
    "Hola, ¿me podéis ayudar con el cambio de titular?",
    "Hello, I think my last invoice is wrong.",
    "Adjunto la lectura del contador.",
    "Gràcies per la vostra resposta.",
    "Moltes gràcies, queda resolt.",
    "Hem revisat el vostre cas i hem aplicat la correcció.",
    "Us confirmem que el canvi s'aplicarà a la propera factura.",
    "Nota interna: revisar amb l'equip de facturació.",
    "No he rebut cap resposta encara.",
    "Merci de votre réponse.",
    "Vielen Dank für Ihre Nachricht.",
)
